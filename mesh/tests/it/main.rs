//! The launcher and the edge: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod bench_smoke;
mod common;
mod envoy_config;
mod envoy_edge;
mod envoy_example;
mod roles;
mod surfaces;
mod up;
mod up_fitness;
