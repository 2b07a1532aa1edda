//! Fitness service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod body;
mod catalog;
mod challenges;
mod coaching;
mod common;
mod edge;
mod fixtures;
mod nutrition;
mod premium;
mod programs;
mod progress;
mod session;
mod stats;
mod workouts;
