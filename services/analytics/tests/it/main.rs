//! Analytics service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource, plus the shared fixtures (`common`,
//! and `history`: the event history `all_views` checks every view against).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod all_views;
mod auth;
mod binary;
mod common;
mod edge;
mod history;
mod ingest;
mod partitions;
mod status;
mod track;
mod views;
