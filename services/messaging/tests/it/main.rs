//! Messaging service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod access;
mod binary;
mod blocks;
mod common;
mod conformance;
mod conversations;
mod cql_outage;
mod edge;
mod fitness_notifications;
mod group_members;
mod groups;
mod instances;
mod logs;
mod messages;
mod notifications;
mod redis_restart;
mod stream;
mod users;
