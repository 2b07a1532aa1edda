//! Test fixtures shared by every service's integration tests: a fresh database per test
//! (created, migrated, dropped), a Redis key prefix, a Kafka topic suffix with its topics
//! created, signing keys and tokens, and services served on port 0.

pub mod check;
pub mod cql;
pub mod kafka;
pub mod logs;
pub mod proxy;

pub use check::{
    assert_status, error_metadata, eventually, mask, request_id, unique, violated_fields,
    wait_until,
};

pub mod grpc_web;

mod db;
mod keys;
mod server;
mod topics;

pub use db::{TestDb, page_secret, postgres_url, redis_config, redis_prefix, redis_url};
pub use keys::{TEST_SERVICE, TestKeys, authed, hostile_tokens};
pub use server::{TestEdge, TestServer, connect_to_binary, free_addr};
pub use topics::{kafka, publish, read_events};
