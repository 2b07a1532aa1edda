//! tribe-analytics: consumes every domain topic into time-bucketed rollups exactly once,
//! serves the four analytics views and takes client tracking events
//! (`trainertribe.analytics.v1.AnalyticsService`), on PostgreSQL `tribe_analytics`.

// Struct literals of shared contract types end in `..Default::default()` so a field
// another domain adds later does not break this crate.
#![allow(clippy::needless_update)]

pub mod app;
pub mod config;
pub mod content_client;
pub mod domain;
pub mod grpc;
pub mod ingest;
pub mod partitions;
pub mod policy;
pub mod service;
pub mod store;
pub mod time;

pub use app::{App, MIGRATOR};
pub use config::Config;
