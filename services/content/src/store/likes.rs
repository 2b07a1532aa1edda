//! Likes on posts and comments: one row per (target, user), so however often or
//! concurrently a like is repeated the primary key counts it once, and the target's
//! counter follows the row actually inserted or deleted.

use sqlx::PgConnection;
use uuid::Uuid;

/// Likes (`like`) or unlikes a post for `user`; whether a like row changed (then
/// `like_count` moved with it).
pub async fn set_post(
    conn: &mut PgConnection,
    post: Uuid,
    user: Uuid,
    like: bool,
) -> sqlx::Result<bool> {
    let changed = toggle(conn, "post_likes", "post_id", post, user, like).await?;
    if changed {
        sqlx::query("UPDATE posts SET like_count = like_count + $2 WHERE id = $1")
            .bind(post)
            .bind(if like { 1_i64 } else { -1 })
            .execute(&mut *conn)
            .await?;
    }
    Ok(changed)
}

/// Likes (`like`) or unlikes a comment for `user`; whether a like row changed (then
/// `like_count` moved with it).
pub async fn set_comment(
    conn: &mut PgConnection,
    comment: Uuid,
    user: Uuid,
    like: bool,
) -> sqlx::Result<bool> {
    let changed = toggle(conn, "comment_likes", "comment_id", comment, user, like).await?;
    if changed {
        sqlx::query("UPDATE comments SET like_count = like_count + $2 WHERE id = $1")
            .bind(comment)
            .bind(if like { 1_i64 } else { -1 })
            .execute(&mut *conn)
            .await?;
    }
    Ok(changed)
}

/// Inserts or deletes the (target, user) like row; whether a row changed. The primary key
/// makes concurrent repeats count once.
async fn toggle(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
    target: Uuid,
    user: Uuid,
    like: bool,
) -> sqlx::Result<bool> {
    let sql = if like {
        format!("INSERT INTO {table} ({column}, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
    } else {
        format!("DELETE FROM {table} WHERE {column} = $1 AND user_id = $2")
    };
    Ok(sqlx::query(&sql)
        .bind(target)
        .bind(user)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}
