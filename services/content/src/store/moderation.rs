//! Reports of posts by users and the moderation of posts by admins: the report queue, a
//! post's moderation state and the moderation log.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{ModerationState, ReportStatus};

/// A report as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    pub post_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: i16,
    pub details: String,
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const REPORT_COLUMNS: &str =
    "id, post_id, reporter_id, reason, details, status, created_at, resolved_at";

/// A new (open) report.
#[derive(Debug, Clone)]
pub struct NewReport<'a> {
    pub id: Uuid,
    pub post_id: Uuid,
    pub reporter_id: Uuid,
    pub reason: i16,
    pub details: &'a str,
}

/// Files a report; false (and nothing stored) while the reporter's earlier report of the
/// post is still open.
pub async fn insert_report(conn: &mut PgConnection, report: &NewReport<'_>) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO post_reports (id, post_id, reporter_id, reason, details) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (post_id, reporter_id) WHERE status = 1 DO NOTHING",
    )
    .bind(report.id)
    .bind(report.post_id)
    .bind(report.reporter_id)
    .bind(report.reason)
    .bind(report.details)
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn report(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<ReportRow> {
    sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM post_reports WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Which reports a queue lists: `None`, 0 and `None` match everything.
#[derive(Debug, Clone, Copy)]
pub struct ReportFilter {
    pub status: Option<ReportStatus>,
    pub reason: i16,
    pub post_id: Option<Uuid>,
}

/// Reports matching `filter`, oldest first after `after`.
pub async fn reports(
    conn: &mut PgConnection,
    filter: ReportFilter,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<ReportRow>> {
    sqlx::query_as(&format!(
        "SELECT {REPORT_COLUMNS} FROM post_reports
             WHERE ($1::smallint IS NULL OR status = $1) AND ($2 = 0 OR reason = $2) AND ($3::uuid IS NULL OR post_id = $3)
               AND ($4::uuid IS NULL OR id > $4)
             ORDER BY id LIMIT $5"
    ))
    .bind(filter.status)
    .bind(filter.reason)
    .bind(filter.post_id)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Sets a post's moderation state and the reason shown to its author.
pub async fn set_state(
    conn: &mut PgConnection,
    post_id: Uuid,
    state: ModerationState,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE posts SET moderation = $2, moderation_reason = $3, updated_at = now() WHERE id = $1")
        .bind(post_id)
        .bind(state)
        .bind(reason)
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes the open reports of a post as `status`; how many it closed.
pub async fn resolve_reports(
    conn: &mut PgConnection,
    post_id: Uuid,
    status: ReportStatus,
) -> sqlx::Result<u64> {
    Ok(sqlx::query("UPDATE post_reports SET status = $2, resolved_at = now() WHERE post_id = $1 AND status = $3")
        .bind(post_id)
        .bind(status)
        .bind(ReportStatus::Open)
        .execute(conn)
        .await?
        .rows_affected())
}

/// One entry of the moderation log.
#[derive(Debug, Clone)]
pub struct LogEntry<'a> {
    pub id: Uuid,
    pub post_id: Uuid,
    pub moderator_id: Uuid,
    pub action: i16,
    pub previous_state: ModerationState,
    pub new_state: ModerationState,
    pub reason: &'a str,
}

pub async fn log(conn: &mut PgConnection, entry: &LogEntry<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO moderation_log (id, post_id, moderator_id, action, previous_state, new_state, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.id)
    .bind(entry.post_id)
    .bind(entry.moderator_id)
    .bind(entry.action)
    .bind(entry.previous_state)
    .bind(entry.new_state)
    .bind(entry.reason)
    .execute(conn)
    .await?;
    Ok(())
}
