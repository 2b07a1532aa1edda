//! tribe-kit: what every TrainerTribe service shares — errors to `Status`, the auth layer,
//! page tokens, field masks, ids, configuration, telemetry, the outbox and the server
//! bootstrap. Services stay thin by building on these.

pub mod auth;
pub mod bootstrap;
pub mod config;
pub mod consumer;
pub mod db;
pub mod error;
mod handlers;
pub mod idempotency;
pub mod ids;
pub mod kafka;
pub mod mask;
pub mod outbox;
pub mod page;
pub mod peers;
pub mod scylla;
pub mod server;
pub mod tasks;
pub mod telemetry;

pub use error::{ApiError, FieldViolation, Violations};
