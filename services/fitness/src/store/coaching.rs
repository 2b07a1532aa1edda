//! SQL of coaching: trainer-client relationships.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Where a relationship stands, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoachingState {
    Pending,
    Active,
    Ended,
}

impl CoachingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Ended => "ended",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "pending" => Some(Self::Pending),
            "active" => Some(Self::Active),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CoachingRow {
    pub id: Uuid,
    pub trainer_id: Uuid,
    pub client_id: Uuid,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_by: Option<Uuid>,
}

impl CoachingRow {
    /// The stored state; an unreadable one counts as ENDED (grants nothing).
    pub fn state(&self) -> CoachingState {
        CoachingState::parse(&self.status).unwrap_or(CoachingState::Ended)
    }
}

const COLUMNS: &str =
    "id, trainer_id, client_id, status, created_at, accepted_at, ended_at, ended_by";

/// Whether `client` is an ACTIVE client of `trainer`.
pub async fn is_active_coach(
    conn: &mut PgConnection,
    trainer: Uuid,
    client: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM coachings
                         WHERE trainer_id = $1 AND client_id = $2 AND status = 'active')",
    )
    .bind(trainer)
    .bind(client)
    .fetch_one(conn)
    .await
}

/// Inserts a PENDING invitation; `None` when the pair has a pending or active one.
pub async fn invite(
    conn: &mut PgConnection,
    id: Uuid,
    trainer: Uuid,
    client: Uuid,
) -> sqlx::Result<Option<CoachingRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO coachings (id, trainer_id, client_id, status) VALUES ($1, $2, $3, 'pending')
         ON CONFLICT (trainer_id, client_id) WHERE status IN ('pending', 'active') DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(trainer)
    .bind(client)
    .fetch_optional(conn)
    .await
}

/// Relationship `id` when `user` is its trainer or client, locked for the transaction.
pub async fn lock_for(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
) -> sqlx::Result<Option<CoachingRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM coachings
          WHERE id = $1 AND (trainer_id = $2 OR client_id = $2) FOR UPDATE"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await
}

pub async fn accept(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<CoachingRow> {
    sqlx::query_as(&format!(
        "UPDATE coachings SET status = 'active', accepted_at = now() WHERE id = $1
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

pub async fn end(conn: &mut PgConnection, id: Uuid, by: Uuid) -> sqlx::Result<CoachingRow> {
    sqlx::query_as(&format!(
        "UPDATE coachings SET status = 'ended', ended_at = now(), ended_by = $2 WHERE id = $1
         RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(by)
    .fetch_one(conn)
    .await
}

/// Which side of the relationships a list shows; `None` both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Trainer,
    Client,
}

/// `user`'s relationships newest first, after `(created_at, id)` when given.
pub async fn list(
    conn: &mut PgConnection,
    user: Uuid,
    side: Option<Side>,
    state: Option<CoachingState>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<CoachingRow>> {
    let side = match side {
        Some(Side::Trainer) => "trainer_id = $1",
        Some(Side::Client) => "client_id = $1",
        None => "(trainer_id = $1 OR client_id = $1)",
    };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM coachings
          WHERE {side} AND ($2::text IS NULL OR status = $2)
            AND ($3::timestamptz IS NULL OR (created_at, id) < ($3, $4))
          ORDER BY created_at DESC, id DESC LIMIT $5"
    ))
    .bind(user)
    .bind(state.map(CoachingState::as_str))
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}
