//! Payment methods: provider references and display facts, at most one default per user.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{MethodKind, Provider};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MethodRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: Provider,
    pub provider_ref: String,
    pub r#type: MethodKind,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub wallet: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, provider, provider_ref, type, brand, last4, exp_month, exp_year, wallet, is_default, created_at";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MethodRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn default_for(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<MethodRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE user_id = $1 AND is_default"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// The position after which a page of methods starts: (is default, created, id).
pub type Cursor = (i32, DateTime<Utc>, Uuid);

/// One page of a user's methods, the default first, then newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<Cursor>,
    limit: usize,
) -> sqlx::Result<Vec<MethodRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM payment_methods WHERE user_id = $1
         AND ($2::int IS NULL OR (is_default::int, created_at, id) < ($2, $3, $4))
         ORDER BY is_default DESC, created_at DESC, id DESC LIMIT $5"
    ))
    .bind(user)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(limit as i64 + 1)
    .fetch_all(conn)
    .await
}

/// How many methods `user` has, not counting `except`.
pub async fn count(conn: &mut PgConnection, user: Uuid, except: Option<Uuid>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM payment_methods WHERE user_id = $1 AND ($2::uuid IS NULL OR id <> $2)")
        .bind(user)
        .bind(except)
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut PgConnection, m: &MethodRow) -> sqlx::Result<()> {
    sqlx::query(&format!("INSERT INTO payment_methods ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
        .bind(m.id)
        .bind(m.user_id)
        .bind(m.provider)
        .bind(&m.provider_ref)
        .bind(m.r#type)
        .bind(&m.brand)
        .bind(&m.last4)
        .bind(m.exp_month)
        .bind(m.exp_year)
        .bind(&m.wallet)
        .bind(m.is_default)
        .bind(m.created_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `id` the user's only default (clear the old default first: one default per user
/// is a unique index).
pub async fn set_default(conn: &mut PgConnection, user: Uuid, id: Uuid) -> sqlx::Result<()> {
    clear_default(conn, user, Some(id)).await?;
    sqlx::query("UPDATE payment_methods SET is_default = true WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Unsets the user's default, unless it is `keep`.
pub async fn clear_default(
    conn: &mut PgConnection,
    user: Uuid,
    keep: Option<Uuid>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE payment_methods SET is_default = false WHERE user_id = $1 AND is_default AND ($2::uuid IS NULL OR id <> $2)")
        .bind(user)
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM payment_methods WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes the user's newest method the default (after the default was removed).
pub async fn promote_newest(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE payment_methods SET is_default = true
         WHERE id = (SELECT id FROM payment_methods WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)",
    )
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}
