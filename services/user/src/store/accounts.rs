//! Accounts and refresh-token families.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{USER_COLUMNS, UserRow};

pub struct NewUser<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub handle: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_trainer: bool,
    pub roles: Vec<String>,
}

pub async fn insert_user(conn: &mut PgConnection, user: &NewUser<'_>) -> sqlx::Result<UserRow> {
    let row: UserRow = sqlx::query_as(&format!(
        "INSERT INTO users (id, email, handle, display_name, password_hash, is_trainer, roles)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {USER_COLUMNS}"
    ))
    .bind(user.id)
    .bind(user.email)
    .bind(user.handle)
    .bind(user.display_name)
    .bind(user.password_hash)
    .bind(user.is_trainer)
    .bind(&user.roles)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO preferences (user_id) VALUES ($1)")
        .bind(user.id)
        .execute(&mut *conn)
        .await?;
    Ok(row)
}

/// The account and its password hash for a login attempt.
pub async fn credentials(
    conn: &mut PgConnection,
    email: &str,
) -> sqlx::Result<Option<(UserRow, String)>> {
    let row: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, password_hash FROM users WHERE lower(email) = lower($1)")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((id, hash)) = row else {
        return Ok(None);
    };
    Ok(super::user_by_id(conn, id).await?.map(|user| (user, hash)))
}

/// A stored refresh token, locked for the rotation.
#[derive(Debug, sqlx::FromRow)]
pub struct RefreshRow {
    pub id: Uuid,
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert_refresh(
    conn: &mut PgConnection,
    family_id: Uuid,
    user_id: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(Uuid::now_v7())
        .bind(family_id)
        .bind(user_id)
        .bind(token_hash)
        .bind(expires_at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn lock_refresh(
    conn: &mut PgConnection,
    token_hash: &[u8],
) -> sqlx::Result<Option<RefreshRow>> {
    sqlx::query_as("SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE")
        .bind(token_hash)
        .fetch_optional(conn)
        .await
}

pub async fn mark_used(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE refresh_tokens SET used_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn revoke_family(conn: &mut PgConnection, family_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL",
    )
    .bind(family_id)
    .execute(conn)
    .await?
    .rows_affected())
}

pub async fn revoke_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?
    .rows_affected())
}
