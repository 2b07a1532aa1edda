//! tribe-content: posts, comments, likes, home and user timelines with hybrid fan-out,
//! trending, search, reports and moderation (`trainertribe.content.v1.ContentService`), on
//! PostgreSQL `tribe_content` plus a [`timeline::TimelineStore`] (ScyllaDB or Postgres).

pub mod app;
pub mod cache;
pub mod config;
pub mod convert;
pub mod domain;
pub mod fanout;
pub mod grpc;
pub mod limits;
pub mod policy;
pub mod service;
pub mod store;
pub mod timeline;
pub mod user_client;

pub use app::{App, MIGRATOR};
pub use config::Config;
