//! The TrackEvents intake: which `(user, client_event_id)` pairs were accepted already.

use sqlx::PgConnection;

/// Records an accepted client event; false when the pair was accepted before (a retry).
pub async fn accept(
    conn: &mut PgConnection,
    user_id: &str,
    client_event_id: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query("INSERT INTO tracked_events (user_id, client_event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(user_id)
        .bind(client_event_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}
