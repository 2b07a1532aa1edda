//! Comments and their one level of replies: rows with `liked_by_me` for the reader, the
//! block rule, and the counters a comment keeps on its post and its top-level comment.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A comment as stored, with `liked_by_me` for the reading viewer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: Uuid,
    pub post_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub text: String,
    pub like_count: i64,
    pub reply_count: i64,
    pub created_at: DateTime<Utc>,
    pub liked_by_me: bool,
}

/// Columns of [`CommentRow`] with the viewer as `$1`.
const COMMENT_COLUMNS: &str = "c.id, c.post_id, c.parent_id, c.author_id, c.text, c.like_count, c.reply_count, c.created_at, \
     EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = c.id AND l.user_id = $1) AS liked_by_me";

/// Comments by users on either side of a block with the viewer (`$1`) are left out.
const NOT_BLOCKED: &str = "NOT EXISTS (SELECT 1 FROM blocks b
     WHERE (b.blocker_id = c.author_id AND b.blocked_id = $1) OR (b.blocker_id = $1 AND b.blocked_id = c.author_id))";

/// One comment, unless a block separates its author and `viewer`.
pub async fn visible(
    conn: &mut PgConnection,
    viewer: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<CommentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.id = $2 AND {NOT_BLOCKED}"
    ))
    .bind(viewer)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Where a comment hangs: its post, its parent (for a reply) and its author.
pub async fn placement(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(Uuid, Option<Uuid>, Uuid)>> {
    sqlx::query_as("SELECT post_id, parent_id, author_id FROM comments WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The author of an existing comment.
pub async fn author(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar("SELECT author_id FROM comments WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Whether `id` is a top-level comment on `post_id`.
pub async fn is_top_level_on(
    conn: &mut PgConnection,
    id: Uuid,
    post_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM comments WHERE id = $1 AND post_id = $2 AND parent_id IS NULL)",
    )
    .bind(id)
    .bind(post_id)
    .fetch_one(conn)
    .await
}

/// A new comment; `parent_id` is the top-level comment of a reply.
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub id: Uuid,
    pub post_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub text: &'a str,
    pub mentions: &'a [String],
}

/// Inserts a comment and counts it on its post and, for a reply, on its parent.
pub async fn insert(conn: &mut PgConnection, comment: &NewComment<'_>) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO comments (id, post_id, parent_id, author_id, text, mentions) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(comment.id)
        .bind(comment.post_id)
        .bind(comment.parent_id)
        .bind(comment.author_id)
        .bind(comment.text)
        .bind(comment.mentions)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE posts SET comment_count = comment_count + 1 WHERE id = $1")
        .bind(comment.post_id)
        .execute(&mut *conn)
        .await?;
    if let Some(top) = comment.parent_id {
        sqlx::query("UPDATE comments SET reply_count = reply_count + 1 WHERE id = $1")
            .bind(top)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One page of a post's top-level comments (`parent` none) or of one thread's replies,
/// oldest first after `after`, leaving out comments across a block with `viewer`.
pub async fn page(
    conn: &mut PgConnection,
    viewer: Uuid,
    post_id: Uuid,
    parent: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<CommentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c
             WHERE c.post_id = $2 AND c.parent_id IS NOT DISTINCT FROM $3 AND ($4::uuid IS NULL OR c.id > $4) AND {NOT_BLOCKED}
             ORDER BY c.id LIMIT $5"
    ))
    .bind(viewer)
    .bind(post_id)
    .bind(parent)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Deletes a comment (its replies go with it, ON DELETE CASCADE) and takes it and its
/// replies off its post's count and, for a reply, off its parent's.
pub async fn delete(conn: &mut PgConnection, comment: &CommentRow) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM comments WHERE id = $1")
        .bind(comment.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE posts SET comment_count = greatest(comment_count - $2, 0) WHERE id = $1")
        .bind(comment.post_id)
        .bind(1 + comment.reply_count)
        .execute(&mut *conn)
        .await?;
    if let Some(parent) = comment.parent_id {
        sqlx::query("UPDATE comments SET reply_count = greatest(reply_count - 1, 0) WHERE id = $1")
            .bind(parent)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
