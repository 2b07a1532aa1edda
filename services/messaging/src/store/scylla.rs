//! The ScyllaDB `MessageStore` (placeholder while the real one is written).

use std::time::Duration;

use super::*;

pub struct ScyllaMessageStore;

impl ScyllaMessageStore {
    pub async fn connect(_nodes: &str, _keyspace: &str, _bucket: Duration) -> anyhow::Result<Self> {
        anyhow::bail!("not yet")
    }
}
