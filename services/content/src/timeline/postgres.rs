//! The TimelineStore on PostgreSQL (`home_timeline`, `user_timeline` of tribe_content).

use async_trait::async_trait;
use sqlx::PgPool;
use uuid::Uuid;

use super::{Entry, TimelineStore};

/// Timelines in the service's own database.
#[derive(Debug, Clone)]
pub struct PgTimelines {
    pool: PgPool,
    cap: usize,
}

impl PgTimelines {
    pub fn new(pool: PgPool, cap: usize) -> Self {
        Self {
            pool,
            cap: cap.max(1),
        }
    }

    /// Drops entries beyond the cap of each owner.
    async fn trim(&self, owners: &[Uuid]) -> anyhow::Result<()> {
        sqlx::query(
            "DELETE FROM home_timeline h USING (
                 SELECT owner_id, post_id FROM (
                     SELECT owner_id, post_id, row_number() OVER (PARTITION BY owner_id ORDER BY post_id DESC) AS rn
                     FROM home_timeline WHERE owner_id = ANY($1)) ranked
                 WHERE rn > $2) old
             WHERE h.owner_id = old.owner_id AND h.post_id = old.post_id",
        )
        .bind(owners)
        .bind(self.cap as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl TimelineStore for PgTimelines {
    async fn push_home(&self, owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        for chunk in owners.chunks(5000) {
            sqlx::query(
                "INSERT INTO home_timeline (owner_id, post_id, author_id) SELECT o, $2, $3 FROM unnest($1::uuid[]) AS o
                 ON CONFLICT DO NOTHING",
            )
            .bind(chunk)
            .bind(entry.post_id)
            .bind(entry.author_id)
            .execute(&self.pool)
            .await?;
            self.trim(chunk).await?;
        }
        Ok(())
    }

    async fn backfill_home(&self, owner: Uuid, entries: &[Entry]) -> anyhow::Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let posts: Vec<Uuid> = entries.iter().map(|e| e.post_id).collect();
        let authors: Vec<Uuid> = entries.iter().map(|e| e.author_id).collect();
        sqlx::query(
            "INSERT INTO home_timeline (owner_id, post_id, author_id) SELECT $1, p, a FROM unnest($2::uuid[], $3::uuid[]) AS x(p, a)
             ON CONFLICT DO NOTHING",
        )
        .bind(owner)
        .bind(&posts)
        .bind(&authors)
        .execute(&self.pool)
        .await?;
        self.trim(&[owner]).await
    }

    async fn home(
        &self,
        owner: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<Entry>> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT post_id, author_id FROM home_timeline WHERE owner_id = $1 AND ($2::uuid IS NULL OR post_id < $2)
             ORDER BY post_id DESC LIMIT $3",
        )
        .bind(owner)
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(post_id, author_id)| Entry { post_id, author_id })
            .collect())
    }

    async fn remove_author_from_home(&self, owner: Uuid, author: Uuid) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM home_timeline WHERE owner_id = $1 AND author_id = $2")
            .bind(owner)
            .bind(author)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn remove_post(&self, _owners: &[Uuid], entry: Entry) -> anyhow::Result<()> {
        // The post_id index reaches every timeline, not only the listed owners'.
        sqlx::query("DELETE FROM home_timeline WHERE post_id = $1")
            .bind(entry.post_id)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM user_timeline WHERE author_id = $1 AND post_id = $2")
            .bind(entry.author_id)
            .bind(entry.post_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn push_user(&self, entry: Entry) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO user_timeline (author_id, post_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(entry.author_id)
        .bind(entry.post_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user(
        &self,
        author: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<Entry>> {
        let rows: Vec<Uuid> = sqlx::query_scalar(
            "SELECT post_id FROM user_timeline WHERE author_id = $1 AND ($2::uuid IS NULL OR post_id < $2)
             ORDER BY post_id DESC LIMIT $3",
        )
        .bind(author)
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|post_id| Entry {
                post_id,
                author_id: author,
            })
            .collect())
    }
}
