//! Notifications in PostgreSQL: one row per group of unread notifications of one type
//! about one target; reading a group closes it, so the next event starts a new one.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use tribe_proto::messaging::v1::NotificationType;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub kind: NotificationType,
    pub post_id: String,
    pub comment_id: String,
    pub conversation_id: String,
    pub text: String,
    pub actor_ids: Vec<Uuid>,
    pub read: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A notification-worthy event for one recipient.
#[derive(Debug, Clone, Default)]
pub struct NewNotification {
    pub recipient_id: Uuid,
    pub kind: NotificationType,
    /// '' = never grouped.
    pub group_key: String,
    pub actor_id: Option<Uuid>,
    pub post_id: String,
    pub comment_id: String,
    pub conversation_id: String,
    pub text: String,
}

const COLUMNS: &str = "id, recipient_id, type, post_id, comment_id, conversation_id, text, actor_ids, read, created_at, updated_at";

/// The `type` column holds the wire enum's number.
fn code(kind: NotificationType) -> i16 {
    kind as i16
}

fn kind(code: i16) -> NotificationType {
    NotificationType::try_from(i32::from(code)).unwrap_or_default()
}

fn row(r: &sqlx::postgres::PgRow) -> sqlx::Result<NotificationRow> {
    Ok(NotificationRow {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        kind: kind(r.try_get("type")?),
        post_id: r.try_get("post_id")?,
        comment_id: r.try_get("comment_id")?,
        conversation_id: r.try_get("conversation_id")?,
        text: r.try_get("text")?,
        actor_ids: r.try_get("actor_ids")?,
        read: r.try_get("read")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Creates the notification, or grows the open group it belongs to; returns it.
pub async fn upsert(
    conn: &mut PgConnection,
    n: &NewNotification,
    at: DateTime<Utc>,
) -> sqlx::Result<NotificationRow> {
    let actors: Vec<Uuid> = n.actor_id.into_iter().collect();
    let r = sqlx::query(&format!(
        "INSERT INTO notifications AS n (id, recipient_id, type, group_key, post_id, comment_id, conversation_id, text, actor_ids,
                                         created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         ON CONFLICT (recipient_id, type, group_key) WHERE NOT read AND group_key <> ''
         DO UPDATE SET actor_ids = array_remove(n.actor_ids, $11) || $9, updated_at = $10,
                       text = CASE WHEN EXCLUDED.text <> '' THEN EXCLUDED.text ELSE n.text END
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(n.recipient_id)
    .bind(code(n.kind))
    .bind(&n.group_key)
    .bind(&n.post_id)
    .bind(&n.comment_id)
    .bind(&n.conversation_id)
    .bind(&n.text)
    .bind(&actors)
    .bind(at)
    .bind(n.actor_id)
    .fetch_one(conn)
    .await?;
    row(&r)
}

pub async fn list(
    conn: &mut PgConnection,
    recipient: Uuid,
    unread_only: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: usize,
) -> sqlx::Result<Vec<NotificationRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE recipient_id = $1 AND (NOT $2 OR NOT read)
         AND ($3::timestamptz IS NULL OR (updated_at, id) < ($3, $4)) ORDER BY updated_at DESC, id DESC LIMIT $5"
    ))
    .bind(recipient)
    .bind(unread_only)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit as i64)
    .fetch_all(conn)
    .await?;
    rows.iter().map(row).collect()
}

pub async fn mark_read_up_to(
    conn: &mut PgConnection,
    recipient: Uuid,
    up_to: DateTime<Utc>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE notifications SET read = true WHERE recipient_id = $1 AND NOT read AND updated_at <= $2")
        .bind(recipient)
        .bind(up_to)
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn mark_read_ids(
    conn: &mut PgConnection,
    recipient: Uuid,
    ids: &[Uuid],
) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE notifications SET read = true WHERE recipient_id = $1 AND NOT read AND id = ANY($2)")
        .bind(recipient)
        .bind(ids)
        .execute(conn)
        .await?
        .rows_affected())
}

pub async fn unread_count(conn: &mut PgConnection, recipient: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM notifications WHERE recipient_id = $1 AND NOT read")
        .bind(recipient)
        .fetch_one(conn)
        .await
}
