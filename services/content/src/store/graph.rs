//! The local replica of the user service's graph (users, follows, blocks), kept from
//! tribe.user.v1 events, and the pull-author marks of hybrid fan-out.

use sqlx::PgConnection;
use uuid::Uuid;

pub async fn upsert_user(
    conn: &mut PgConnection,
    id: Uuid,
    handle: &str,
    is_trainer: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO users (id, handle, is_trainer) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET handle = $2, is_trainer = $3",
    )
    .bind(id)
    .bind(handle)
    .bind(is_trainer)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ids of the known users among `handles` (lower case).
pub async fn ids_by_handles(
    conn: &mut PgConnection,
    handles: &[String],
) -> sqlx::Result<Vec<Uuid>> {
    if handles.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, lower(handle) FROM users WHERE lower(handle) = ANY($1)")
            .bind(handles)
            .fetch_all(conn)
            .await?;
    // In mention order.
    Ok(handles
        .iter()
        .filter_map(|h| rows.iter().find(|(_, rh)| rh == h).map(|(id, _)| *id))
        .collect())
}

pub async fn follow(conn: &mut PgConnection, follower: Uuid, followee: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(follower)
    .bind(followee)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unfollow(conn: &mut PgConnection, follower: Uuid, followee: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
        .bind(follower)
        .bind(followee)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn block(conn: &mut PgConnection, blocker: Uuid, blocked: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(blocker)
    .bind(blocked)
    .execute(&mut *conn)
    .await?;
    // A block ends follows both ways.
    sqlx::query("DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)")
        .bind(blocker)
        .bind(blocked)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn unblock(conn: &mut PgConnection, blocker: Uuid, blocked: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
        .bind(blocker)
        .bind(blocked)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn blocked_either_way(conn: &mut PgConnection, a: Uuid, b: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) OR (blocker_id = $2 AND blocked_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(conn)
    .await
}

/// Who follows `author`.
pub async fn followers(conn: &mut PgConnection, author: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT follower_id FROM follows WHERE followee_id = $1")
        .bind(author)
        .fetch_all(conn)
        .await
}

/// Who `user` follows.
pub async fn followees(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT followee_id FROM follows WHERE follower_id = $1")
        .bind(user)
        .fetch_all(conn)
        .await
}

/// The followees of `user` whose posts are merged at read time.
pub async fn pulled_followees(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT p.author_id FROM pull_authors p JOIN follows f ON f.followee_id = p.author_id WHERE f.follower_id = $1")
        .bind(user)
        .fetch_all(conn)
        .await
}

pub async fn mark_pull(conn: &mut PgConnection, author: Uuid, followers: u64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO pull_authors (author_id, follower_count) VALUES ($1, $2)
         ON CONFLICT (author_id) DO UPDATE SET follower_count = $2, updated_at = now()",
    )
    .bind(author)
    .bind(followers as i64)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn unmark_pull(conn: &mut PgConnection, author: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM pull_authors WHERE author_id = $1")
        .bind(author)
        .execute(conn)
        .await?;
    Ok(())
}
