//! Payment service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod auth;
mod cancellation;
mod common;
mod edge;
mod incomplete;
mod logs;
mod methods;
mod plan_change;
mod plans;
mod renewals;
mod subscriptions;
mod transactions;
