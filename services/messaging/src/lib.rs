//! tribe-messaging: direct and group conversations, messages, read receipts, typing,
//! presence, the live event stream and in-app notifications
//! (`trainertribe.messaging.v1.MessagingService`).

pub mod app;
pub mod config;
pub mod convert;
pub mod domain;
pub mod events;
pub mod grpc;
pub mod live;
pub mod policy;
pub mod service;
pub mod store;
pub mod user_client;

pub use app::{App, MIGRATOR};
pub use config::Config;
