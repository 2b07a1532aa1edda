//! tribe-user: accounts, authentication, profiles, the social graph, blocks and
//! preferences (`trainertribe.user.v1.UserService`), on PostgreSQL `tribe_user`.

pub mod achievements;
pub mod app;
pub mod config;
pub mod convert;
pub mod domain;
pub mod entitlements;
pub mod grpc;
pub mod policy;
pub mod service;
pub mod store;

pub use app::{App, MIGRATOR};
pub use config::Config;
