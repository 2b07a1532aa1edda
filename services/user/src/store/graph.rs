//! Follows and blocks, with the counters on `users` kept in the same transaction.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::SummaryRow;

/// Inserts a follow; returns its time and whether it is new.
pub async fn follow(
    conn: &mut PgConnection,
    follower: Uuid,
    followee: Uuid,
) -> sqlx::Result<(DateTime<Utc>, bool)> {
    let inserted: Option<DateTime<Utc>> =
        sqlx::query_scalar("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING created_at")
            .bind(follower)
            .bind(followee)
            .fetch_optional(&mut *conn)
            .await?;
    if let Some(at) = inserted {
        adjust_counts(conn, follower, followee, 1).await?;
        return Ok((at, true));
    }
    let at = sqlx::query_scalar(
        "SELECT created_at FROM follows WHERE follower_id = $1 AND followee_id = $2",
    )
    .bind(follower)
    .bind(followee)
    .fetch_one(conn)
    .await?;
    Ok((at, false))
}

/// Removes a follow; returns whether one existed.
pub async fn unfollow(
    conn: &mut PgConnection,
    follower: Uuid,
    followee: Uuid,
) -> sqlx::Result<bool> {
    let deleted = sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
        .bind(follower)
        .bind(followee)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if deleted == 1 {
        adjust_counts(conn, follower, followee, -1).await?;
    }
    Ok(deleted == 1)
}

async fn adjust_counts(
    conn: &mut PgConnection,
    follower: Uuid,
    followee: Uuid,
    delta: i64,
) -> sqlx::Result<()> {
    // Fixed lock order (by id), and NO KEY UPDATE so the row locks do not conflict with the
    // key-share locks the follows foreign keys take: crossing follows cannot deadlock.
    sqlx::query(
        "UPDATE users SET
            following_count = following_count + CASE WHEN id = $1 THEN $3 ELSE 0 END,
            follower_count = follower_count + CASE WHEN id = $2 THEN $3 ELSE 0 END
         WHERE id IN (SELECT id FROM users WHERE id IN ($1, $2) ORDER BY id FOR NO KEY UPDATE)",
    )
    .bind(follower)
    .bind(followee)
    .bind(delta)
    .execute(conn)
    .await?;
    Ok(())
}

/// True when either user blocked the other.
pub async fn blocked_either_way(conn: &mut PgConnection, a: Uuid, b: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(conn)
    .await
}

pub async fn block(conn: &mut PgConnection, blocker: Uuid, blocked: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(blocker)
    .bind(blocked)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn unblock(conn: &mut PgConnection, blocker: Uuid, blocked: Uuid) -> sqlx::Result<bool> {
    Ok(
        sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker)
            .bind(blocked)
            .execute(conn)
            .await?
            .rows_affected()
            == 1,
    )
}

/// One row of a follow or block list.
#[derive(Debug, sqlx::FromRow)]
pub struct EdgeRow {
    #[sqlx(flatten)]
    pub user: SummaryRow,
    pub at: DateTime<Utc>,
}

/// Which list to page through.
#[derive(Debug, Clone, Copy)]
pub enum EdgeList {
    /// Followers of the user.
    Followers,
    /// Users the user follows.
    Following,
    /// Users the user blocked.
    Blocked,
}

/// Newest first, keyset after (`at`, `other id`).
pub async fn list_edges(
    conn: &mut PgConnection,
    list: EdgeList,
    owner: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<EdgeRow>> {
    let (table, owner_col, other_col) = match list {
        EdgeList::Followers => ("follows", "followee_id", "follower_id"),
        EdgeList::Following => ("follows", "follower_id", "followee_id"),
        EdgeList::Blocked => ("blocks", "blocker_id", "blocked_id"),
    };
    let sql = format!(
        "SELECT u.id, u.handle, u.display_name, u.avatar_url, u.is_trainer, u.is_verified, e.created_at AS at
         FROM {table} e JOIN users u ON u.id = e.{other_col}
         WHERE e.{owner_col} = $1 AND ($2::timestamptz IS NULL OR (e.created_at, e.{other_col}) < ($2, $3))
         ORDER BY e.created_at DESC, e.{other_col} DESC LIMIT $4"
    );
    sqlx::query_as(&sql)
        .bind(owner)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Follower ids in ascending order after `after`.
pub async fn follower_ids(
    conn: &mut PgConnection,
    followee: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "SELECT follower_id FROM follows WHERE followee_id = $1 AND ($2::uuid IS NULL OR follower_id > $2)
         ORDER BY follower_id LIMIT $3",
    )
    .bind(followee)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// How `viewer` relates to each of `others` (only users that exist are returned).
#[derive(Debug, sqlx::FromRow)]
pub struct RelationshipRow {
    pub id: Uuid,
    pub following: bool,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
}

pub async fn relationships(
    conn: &mut PgConnection,
    viewer: Uuid,
    others: &[Uuid],
) -> sqlx::Result<Vec<RelationshipRow>> {
    let rows: Vec<RelationshipRow> = sqlx::query_as(
        "SELECT u.id,
            EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $1 AND f.followee_id = u.id) AS following,
            EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = u.id AND f.followee_id = $1) AS followed_by,
            EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = $1 AND b.blocked_id = u.id) AS blocking,
            EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $1) AS blocked_by
         FROM users u WHERE u.id = ANY($2)",
    )
    .bind(viewer)
    .bind(others)
    .fetch_all(conn)
    .await?;
    let mut by_id: std::collections::HashMap<Uuid, RelationshipRow> =
        rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(others.iter().filter_map(|id| by_id.remove(id)).collect())
}
