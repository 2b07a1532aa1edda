//! The TimelineStore on ScyllaDB (schema: migrations/scylla/content/0001_timelines.cql).
//! Every statement is prepared and idempotent; writes and the reads that decide what a
//! user sees use LOCAL_QUORUM. Post ids are stored as 16-byte blobs so the clustering
//! order is the UUIDv7 time order.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::frame::types::Consistency;
use scylla::statement::prepared::PreparedStatement;
use tribe_kit::scylla::{CqlConfig, CqlResultExt};
use uuid::Uuid;

use super::{Entry, TimelineStore};

const SCHEMA: &str = include_str!("../../../../migrations/scylla/content/0001_timelines.cql");

struct Statements {
    insert_home: PreparedStatement,
    home_first: PreparedStatement,
    home_before: PreparedStatement,
    home_all: PreparedStatement,
    delete_home: PreparedStatement,
    trim_home: PreparedStatement,
    insert_user: PreparedStatement,
    user_first: PreparedStatement,
    user_before: PreparedStatement,
    delete_user: PreparedStatement,
}

/// Timelines on a ScyllaDB cluster.
#[derive(Clone)]
pub struct ScyllaTimelines {
    session: Arc<Session>,
    statements: Arc<Statements>,
    cap: usize,
}

impl std::fmt::Debug for ScyllaTimelines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScyllaTimelines")
            .field("cap", &self.cap)
            .finish_non_exhaustive()
    }
}

fn blob(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

fn from_blob(raw: &[u8]) -> anyhow::Result<Uuid> {
    Uuid::from_slice(raw).context("post id blob is not 16 bytes")
}

impl ScyllaTimelines {
    /// Connects, creates the keyspace and tables if missing, and prepares every statement.
    pub async fn connect(config: &CqlConfig, cap: usize) -> anyhow::Result<Self> {
        let session = tribe_kit::scylla::connect(config, SCHEMA).await?;
        let prepare = |cql: &'static str, consistency: Consistency| {
            tribe_kit::scylla::prepare(&session, cql, consistency, true)
        };
        use Consistency::{LocalOne, LocalQuorum};
        let statements = Statements {
            insert_home: prepare("INSERT INTO home_timeline (owner_id, post_id, author_id) VALUES (?, ?, ?)", LocalQuorum).await?,
            home_first: prepare("SELECT post_id, author_id FROM home_timeline WHERE owner_id = ? LIMIT ?", LocalQuorum).await?,
            home_before: prepare("SELECT post_id, author_id FROM home_timeline WHERE owner_id = ? AND post_id < ? LIMIT ?", LocalQuorum)
                .await?,
            // Only used to find entries to delete; a stale read just leaves an entry that
            // the read path filters anyway.
            home_all: prepare("SELECT post_id, author_id FROM home_timeline WHERE owner_id = ?", LocalOne).await?,
            delete_home: prepare("DELETE FROM home_timeline WHERE owner_id = ? AND post_id = ?", LocalQuorum).await?,
            // A clustering range delete: one range tombstone instead of one per entry
            // (ScyllaDB and Cassandra 3.0+ both accept it).
            trim_home: prepare("DELETE FROM home_timeline WHERE owner_id = ? AND post_id <= ?", LocalQuorum).await?,
            insert_user: prepare("INSERT INTO user_timeline (author_id, post_id) VALUES (?, ?)", LocalQuorum).await?,
            user_first: prepare("SELECT post_id FROM user_timeline WHERE author_id = ? LIMIT ?", LocalQuorum).await?,
            user_before: prepare("SELECT post_id FROM user_timeline WHERE author_id = ? AND post_id < ? LIMIT ?", LocalQuorum).await?,
            delete_user: prepare("DELETE FROM user_timeline WHERE author_id = ? AND post_id = ?", LocalQuorum).await?,
        };
        Ok(Self {
            session: Arc::new(session),
            statements: Arc::new(statements),
            cap: cap.max(1),
        })
    }

    async fn exec(
        &self,
        statement: &PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> anyhow::Result<()> {
        self.session
            .execute_unpaged(statement, values)
            .await
            .cql()?;
        Ok(())
    }

    /// Rows of a read; driver failures keep their meaning (UNAVAILABLE) through `cql()`.
    async fn rows<R>(
        &self,
        statement: &PreparedStatement,
        values: impl scylla::serialize::row::SerializeRow,
    ) -> anyhow::Result<Vec<R>>
    where
        R: for<'f> scylla::deserialize::row::DeserializeRow<'f, 'f>,
    {
        let result = self
            .session
            .execute_unpaged(statement, values)
            .await
            .cql()?
            .into_rows_result()?;
        Ok(result.rows::<R>()?.collect::<Result<Vec<R>, _>>()?)
    }

    /// Deletes everything older than the cap-th newest entry of `owner`.
    async fn trim(&self, owner: Uuid) -> anyhow::Result<()> {
        let ids: Vec<(Vec<u8>, Uuid)> = self
            .rows(&self.statements.home_first, (owner, self.cap as i32 + 1))
            .await?;
        if let Some((oldest_kept_after, _)) = ids.get(self.cap) {
            self.exec(&self.statements.trim_home, (owner, oldest_kept_after))
                .await?;
        }
        Ok(())
    }
}

fn limit(limit: usize) -> i32 {
    limit.min(i32::MAX as usize) as i32
}

#[async_trait]
impl TimelineStore for ScyllaTimelines {
    async fn push_home(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        for chunk in owners.chunks(64) {
            let writes = chunk.iter().map(|owner| async move {
                self.exec(
                    &self.statements.insert_home,
                    (*owner, blob(entry.post_id), entry.author_id),
                )
                .await?;
                self.trim(*owner).await
            });
            for result in futures::future::join_all(writes).await {
                result?;
            }
        }
        Ok(())
    }

    async fn backfill_home(&self, owner: Uuid, entries: &[Entry]) -> anyhow::Result<()> {
        for e in entries {
            self.exec(
                &self.statements.insert_home,
                (owner, blob(e.post_id), e.author_id),
            )
            .await?;
        }
        self.trim(owner).await
    }

    async fn home(
        &self,
        owner: Uuid,
        before: Option<Uuid>,
        n: usize,
    ) -> anyhow::Result<Vec<Entry>> {
        let rows: Vec<(Vec<u8>, Uuid)> = match before {
            None => {
                self.rows(&self.statements.home_first, (owner, limit(n)))
                    .await?
            }
            Some(id) => {
                self.rows(&self.statements.home_before, (owner, blob(id), limit(n)))
                    .await?
            }
        };
        rows.iter()
            .map(|(post, author_id)| {
                Ok(Entry {
                    post_id: from_blob(post)?,
                    author_id: *author_id,
                })
            })
            .collect()
    }

    async fn remove_author_from_home(&self, owner: Uuid, author: Uuid) -> anyhow::Result<()> {
        let rows: Vec<(Vec<u8>, Uuid)> = self.rows(&self.statements.home_all, (owner,)).await?;
        for (post, _) in rows.iter().filter(|(_, by)| *by == author) {
            self.exec(&self.statements.delete_home, (owner, post))
                .await?;
        }
        Ok(())
    }

    async fn remove_post(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        for chunk in owners.chunks(64) {
            let deletes = chunk.iter().map(|owner| {
                self.exec(&self.statements.delete_home, (*owner, blob(entry.post_id)))
            });
            for result in futures::future::join_all(deletes).await {
                result?;
            }
        }
        self.exec(
            &self.statements.delete_user,
            (entry.author_id, blob(entry.post_id)),
        )
        .await
    }

    async fn push_user(&self, entry: Entry) -> anyhow::Result<()> {
        self.exec(
            &self.statements.insert_user,
            (entry.author_id, blob(entry.post_id)),
        )
        .await
    }

    async fn user(
        &self,
        author: Uuid,
        before: Option<Uuid>,
        n: usize,
    ) -> anyhow::Result<Vec<Entry>> {
        let rows: Vec<(Vec<u8>,)> = match before {
            None => {
                self.rows(&self.statements.user_first, (author, limit(n)))
                    .await?
            }
            Some(id) => {
                self.rows(&self.statements.user_before, (author, blob(id), limit(n)))
                    .await?
            }
        };
        rows.iter()
            .map(|(post,)| {
                Ok(Entry {
                    post_id: from_blob(post)?,
                    author_id: author,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_file_splits_into_its_two_tables() {
        let statements = tribe_kit::scylla::schema_statements(SCHEMA);
        assert_eq!(statements.len(), 2, "{statements:#?}");
        assert!(statements[0].starts_with("CREATE TABLE IF NOT EXISTS home_timeline"));
        assert!(statements[1].starts_with("CREATE TABLE IF NOT EXISTS user_timeline"));
    }
}
