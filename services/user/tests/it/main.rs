//! User service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod accounts;
mod achievements;
mod auth;
mod common;
mod drain;
mod edge;
mod events;
mod graph;
mod preferences;
mod profile;
