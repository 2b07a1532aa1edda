//! tribe-fitness: the exercise catalog, workouts with per-set prescriptions, programs
//! with progression rules, coaching, progress logs, records and streaks, challenges and
//! nutrition (`trainertribe.fitness.v1.FitnessService`), on PostgreSQL `tribe_fitness`.

pub mod app;
pub mod config;
pub mod convert;
pub mod domain;
pub mod grpc;
pub mod payment_client;
pub mod policy;
pub mod premium;
pub mod progression;
pub mod service;
pub mod store;

pub use app::{App, MIGRATOR};
pub use config::Config;
