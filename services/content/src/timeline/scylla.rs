//! The TimelineStore on ScyllaDB (schema: migrations/scylla/content/0001_timelines.cql).
//! Every statement is prepared and idempotent; writes and the reads that decide what a
//! user sees use LOCAL_QUORUM. Post ids are stored as 16-byte blobs so the clustering
//! order is the UUIDv7 time order.

use std::sync::Arc;

use anyhow::Context;
use async_trait::async_trait;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::frame::types::Consistency;
use scylla::statement::prepared::PreparedStatement;
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
        f.debug_struct("ScyllaTimelines").field("cap", &self.cap).finish_non_exhaustive()
    }
}

fn blob(id: Uuid) -> Vec<u8> {
    id.as_bytes().to_vec()
}

fn from_blob(raw: &[u8]) -> anyhow::Result<Uuid> {
    Uuid::from_slice(raw).context("post id blob is not 16 bytes")
}

impl ScyllaTimelines {
    /// Connects, creates the keyspace and tables if missing (the schema file with
    /// `keyspace` and `replication_factor` substituted), and prepares every statement.
    pub async fn connect(nodes: &[String], keyspace: &str, replication_factor: u32, cap: usize) -> anyhow::Result<Self> {
        anyhow::ensure!(keyspace.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad keyspace name {keyspace}");
        let session = SessionBuilder::new().known_nodes(nodes).build().await.context("connect to ScyllaDB")?;
        let schema = SCHEMA
            .replace("tribe_content", keyspace)
            .replace("'replication_factor': 3", &format!("'replication_factor': {replication_factor}"));
        for statement in schema_statements(&schema) {
            session.query_unpaged(statement.as_str(), ()).await.with_context(|| format!("apply CQL schema: {statement}"))?;
        }
        let ks = keyspace;
        let prepare = |cql: String, consistency: Consistency| {
            let session = &session;
            async move {
                let mut statement = session.prepare(cql.clone()).await.with_context(|| format!("prepare {cql}"))?;
                statement.set_consistency(consistency);
                statement.set_is_idempotent(true);
                anyhow::Ok(statement)
            }
        };
        use Consistency::{LocalOne, LocalQuorum};
        let statements = Statements {
            insert_home: prepare(format!("INSERT INTO {ks}.home_timeline (owner_id, post_id, author_id) VALUES (?, ?, ?)"), LocalQuorum)
                .await?,
            home_first: prepare(format!("SELECT post_id, author_id FROM {ks}.home_timeline WHERE owner_id = ? LIMIT ?"), LocalQuorum)
                .await?,
            home_before: prepare(
                format!("SELECT post_id, author_id FROM {ks}.home_timeline WHERE owner_id = ? AND post_id < ? LIMIT ?"),
                LocalQuorum,
            )
            .await?,
            // Only used to find entries to delete; a stale read just leaves an entry that
            // the read path filters anyway.
            home_all: prepare(format!("SELECT post_id, author_id FROM {ks}.home_timeline WHERE owner_id = ?"), LocalOne).await?,
            delete_home: prepare(format!("DELETE FROM {ks}.home_timeline WHERE owner_id = ? AND post_id = ?"), LocalQuorum).await?,
            trim_home: prepare(format!("DELETE FROM {ks}.home_timeline WHERE owner_id = ? AND post_id <= ?"), LocalQuorum).await?,
            insert_user: prepare(format!("INSERT INTO {ks}.user_timeline (author_id, post_id) VALUES (?, ?)"), LocalQuorum).await?,
            user_first: prepare(format!("SELECT post_id FROM {ks}.user_timeline WHERE author_id = ? LIMIT ?"), LocalQuorum).await?,
            user_before: prepare(
                format!("SELECT post_id FROM {ks}.user_timeline WHERE author_id = ? AND post_id < ? LIMIT ?"),
                LocalQuorum,
            )
            .await?,
            delete_user: prepare(format!("DELETE FROM {ks}.user_timeline WHERE author_id = ? AND post_id = ?"), LocalQuorum).await?,
        };
        Ok(Self { session: Arc::new(session), statements: Arc::new(statements), cap: cap.max(1) })
    }

    /// Deletes everything older than the cap-th newest entry of `owner`.
    async fn trim(&self, owner: Uuid) -> anyhow::Result<()> {
        let rows = self.session.execute_unpaged(&self.statements.home_first, (owner, self.cap as i32 + 1)).await?.into_rows_result()?;
        let ids: Vec<Vec<u8>> = rows.rows::<(Vec<u8>, Uuid)>()?.map(|r| r.map(|(p, _)| p)).collect::<Result<_, _>>()?;
        if ids.len() > self.cap
            && let Some(oldest_kept_after) = ids.get(self.cap)
        {
            self.session.execute_unpaged(&self.statements.trim_home, (owner, oldest_kept_after.clone())).await?;
        }
        Ok(())
    }

    async fn page(
        &self,
        first: &PreparedStatement,
        before: &PreparedStatement,
        key: Uuid,
        after: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let limit = limit.min(i32::MAX as usize) as i32;
        let result = match after {
            None => self.session.execute_unpaged(first, (key, limit)).await?,
            Some(id) => self.session.execute_unpaged(before, (key, blob(id), limit)).await?,
        };
        let rows = result.into_rows_result()?;
        let mut out = Vec::new();
        for row in rows.rows::<(Vec<u8>,)>()? {
            out.push(row?.0);
        }
        Ok(out)
    }
}

/// The statements of a CQL file: `--` comment lines dropped first (they may contain ';'),
/// then split on ';'.
fn schema_statements(schema: &str) -> Vec<String> {
    let code: String = schema.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    code.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

#[async_trait]
impl TimelineStore for ScyllaTimelines {
    async fn push_home(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        for chunk in owners.chunks(64) {
            let writes = chunk.iter().map(|owner| async move {
                self.session.execute_unpaged(&self.statements.insert_home, (*owner, blob(entry.post_id), entry.author_id)).await?;
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
            self.session.execute_unpaged(&self.statements.insert_home, (owner, blob(e.post_id), e.author_id)).await?;
        }
        self.trim(owner).await
    }

    async fn home(&self, owner: Uuid, before: Option<Uuid>, limit: usize) -> anyhow::Result<Vec<Entry>> {
        let limit = limit.min(i32::MAX as usize) as i32;
        let result = match before {
            None => self.session.execute_unpaged(&self.statements.home_first, (owner, limit)).await?,
            Some(id) => self.session.execute_unpaged(&self.statements.home_before, (owner, blob(id), limit)).await?,
        };
        let rows = result.into_rows_result()?;
        let mut out = Vec::new();
        for row in rows.rows::<(Vec<u8>, Uuid)>()? {
            let (post, author_id) = row?;
            out.push(Entry { post_id: from_blob(&post)?, author_id });
        }
        Ok(out)
    }

    async fn remove_author_from_home(&self, owner: Uuid, author: Uuid) -> anyhow::Result<()> {
        let rows = self.session.execute_unpaged(&self.statements.home_all, (owner,)).await?.into_rows_result()?;
        let mut doomed = Vec::new();
        for row in rows.rows::<(Vec<u8>, Uuid)>()? {
            let (post, by) = row?;
            if by == author {
                doomed.push(post);
            }
        }
        for post in doomed {
            self.session.execute_unpaged(&self.statements.delete_home, (owner, post)).await?;
        }
        Ok(())
    }

    async fn remove_post(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        for chunk in owners.chunks(64) {
            let deletes =
                chunk.iter().map(|owner| self.session.execute_unpaged(&self.statements.delete_home, (*owner, blob(entry.post_id))));
            for result in futures::future::join_all(deletes).await {
                result?;
            }
        }
        self.session.execute_unpaged(&self.statements.delete_user, (entry.author_id, blob(entry.post_id))).await?;
        Ok(())
    }

    async fn push_user(&self, entry: Entry) -> anyhow::Result<()> {
        self.session.execute_unpaged(&self.statements.insert_user, (entry.author_id, blob(entry.post_id))).await?;
        Ok(())
    }

    async fn user(&self, author: Uuid, before: Option<Uuid>, limit: usize) -> anyhow::Result<Vec<Entry>> {
        let ids = self.page(&self.statements.user_first, &self.statements.user_before, author, before, limit).await?;
        ids.iter().map(|p| Ok(Entry { post_id: from_blob(p)?, author_id: author })).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_file_splits_into_its_three_statements() {
        let statements = schema_statements(&SCHEMA.replace("tribe_content", "ks_test"));
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert!(statements[0].starts_with("CREATE KEYSPACE IF NOT EXISTS ks_test"));
        assert!(statements[1].starts_with("CREATE TABLE IF NOT EXISTS ks_test.home_timeline"));
        assert!(statements[2].starts_with("CREATE TABLE IF NOT EXISTS ks_test.user_timeline"));
        assert!(statements.iter().all(|s| !s.contains("--")));
    }
}
