//! PostgreSQL and Redis access of the analytics service: a module per resource
//! (`views`, `track`, `status`) plus the writes of the rollup consumer (`ingest`). Functions
//! take a pool or a connection so callers choose their transaction boundaries; no business
//! rules here beyond what SQL enforces.

pub mod ingest;
pub mod status;
pub mod throttle;
pub mod track;
pub mod views;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

/// The author of a post, if content events (or the content service) told us.
pub async fn post_author(conn: &mut PgConnection, post_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT author_id FROM posts WHERE post_id = $1")
        .bind(post_id)
        .fetch_optional(conn)
        .await
}

/// Authors of the given posts (missing ones are absent).
pub async fn post_authors(
    pool: &PgPool,
    post_ids: &[String],
) -> sqlx::Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT post_id, author_id FROM posts WHERE post_id = ANY($1)")
            .bind(post_ids)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Records a post's author learned outside the event stream (the content fallback); a
/// row written by content events is left alone.
pub async fn remember_post(
    pool: &PgPool,
    post_id: &str,
    author: &str,
    created: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO posts (post_id, author_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (post_id) DO NOTHING")
        .bind(post_id)
        .bind(author)
        .bind(created)
        .execute(pool)
        .await?;
    Ok(())
}
