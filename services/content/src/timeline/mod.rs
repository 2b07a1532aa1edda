//! Home and user timelines behind one trait, with a ScyllaDB implementation (production)
//! and a PostgreSQL implementation of the same semantics (single machine, tests).
//!
//! Semantics every implementation keeps (checked by `tests/it/timeline_conformance.rs`):
//! - entries are ordered by post id descending (UUIDv7, so newest first);
//! - inserting the same (owner, post) again changes nothing;
//! - a home timeline keeps only its `cap` newest entries;
//! - pages continue strictly below the `before` post id.

pub mod postgres;
pub mod scylla;

use async_trait::async_trait;
use uuid::Uuid;

/// One post in a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entry {
    pub post_id: Uuid,
    pub author_id: Uuid,
}

#[async_trait]
pub trait TimelineStore: Send + Sync + 'static {
    /// Adds `entry` to the home timeline of every owner, then trims each to the cap.
    async fn push_home(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()>;

    /// Adds several entries to one owner's home timeline (follow backfill), then trims.
    async fn backfill_home(&self, owner: Uuid, entries: &[Entry]) -> anyhow::Result<()>;

    /// Up to `limit` entries of `owner`'s home timeline below `before`, newest first.
    async fn home(
        &self,
        owner: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<Entry>>;

    /// Removes every post of `author` from `owner`'s home timeline (unfollow, block).
    async fn remove_author_from_home(&self, owner: Uuid, author: Uuid) -> anyhow::Result<()>;

    /// Removes a post from the home timelines of `owners` and from its author's user
    /// timeline (delete, moderation). Implementations may remove it from more timelines.
    async fn remove_post(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()>;

    /// Adds a post to its author's user timeline.
    async fn push_user(&self, entry: Entry) -> anyhow::Result<()>;

    /// Up to `limit` posts of `author` below `before`, newest first.
    async fn user(
        &self,
        author: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<Entry>>;
}
