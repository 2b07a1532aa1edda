//! PostgreSQL access of the user service. Functions take a connection so use-cases choose
//! their transaction boundaries; no business rules here beyond what SQL enforces.

pub mod accounts;
pub mod graph;
pub mod profile;
pub mod throttle;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A full profile row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub handle: String,
    pub display_name: String,
    pub bio: String,
    pub avatar_url: String,
    pub cover_url: String,
    pub location: String,
    pub is_trainer: bool,
    pub is_verified: bool,
    pub roles: Vec<String>,
    pub tier: String,
    pub follower_count: i64,
    pub following_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const USER_COLUMNS: &str = "id, email, handle, display_name, bio, avatar_url, cover_url, location, is_trainer, \
     is_verified, roles, tier, follower_count, following_count, created_at, updated_at";

/// The public summary of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SummaryRow {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub avatar_url: String,
    pub is_trainer: bool,
    pub is_verified: bool,
}

pub async fn user_by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn user_by_handle(
    conn: &mut PgConnection,
    handle: &str,
) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(handle) = lower($1)"
    ))
    .bind(handle)
    .fetch_optional(conn)
    .await
}

pub async fn exists(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Summaries of `ids`, in the order given; unknown ids are skipped.
pub async fn summaries(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<SummaryRow>> {
    let rows: Vec<SummaryRow> =
        sqlx::query_as("SELECT id, handle, display_name, avatar_url, is_trainer, is_verified FROM users WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(conn)
            .await?;
    let mut by_id: std::collections::HashMap<Uuid, SummaryRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// True when `blocker` blocked `blocked`.
pub async fn is_blocked(
    conn: &mut PgConnection,
    blocker: Uuid,
    blocked: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)",
    )
    .bind(blocker)
    .bind(blocked)
    .fetch_one(conn)
    .await
}

/// Awards an achievement once; returns whether it was new.
pub async fn award(conn: &mut PgConnection, user: Uuid, code: &str) -> sqlx::Result<bool> {
    let done = sqlx::query("INSERT INTO user_achievements (id, user_id, code) VALUES ($1, $2, $3) ON CONFLICT (user_id, code) DO NOTHING")
        .bind(Uuid::now_v7())
        .bind(user)
        .bind(code)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
