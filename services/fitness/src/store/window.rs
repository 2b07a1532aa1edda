//! Keyset pages of one user's rows over a time range, newest first: the lists of
//! progress logs and of body measurements.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// Which rows of one user a page holds: those in `[from, to)`, after the keyset position
/// `after` (time, id), at most `limit`.
#[derive(Debug, Clone)]
pub struct UserWindow {
    pub user: Uuid,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: i64,
}

/// The rows of `select` (a `SELECT .. FROM table` of a table with `id` and `user_id`)
/// in window `w`, ordered by the time column `at` (most recent first), then id.
pub async fn fetch<R>(
    conn: &mut PgConnection,
    select: &str,
    at: &str,
    w: &UserWindow,
) -> sqlx::Result<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let (after_at, after_id) = w.after.unzip();
    sqlx::query_as(&format!(
        "{select}
          WHERE user_id = $1
            AND ($2::timestamptz IS NULL OR {at} >= $2)
            AND ($3::timestamptz IS NULL OR {at} < $3)
            AND ($4::timestamptz IS NULL OR ({at}, id) < ($4, $5))
          ORDER BY {at} DESC, id DESC
          LIMIT $6"
    ))
    .bind(w.user)
    .bind(w.from)
    .bind(w.to)
    .bind(after_at)
    .bind(after_id)
    .bind(w.limit)
    .fetch_all(conn)
    .await
}
