//! Content service: every integration test of the crate in one binary (one link, one
//! process per test under nextest), a module per resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_update
)]

mod common;

mod binary;
mod cache;
mod comments;
mod edge;
mod events;
mod fanout;
mod feed;
mod likes;
mod moderation;
mod posts;
mod search;
mod timeline_conformance;
mod trending;
