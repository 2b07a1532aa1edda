//! SQL of coaching.

use sqlx::PgConnection;
use uuid::Uuid;

/// Whether `client` is an ACTIVE client of `trainer`.
pub async fn is_active_coach(
    conn: &mut PgConnection,
    trainer: Uuid,
    client: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM coachings
                         WHERE trainer_id = $1 AND client_id = $2 AND status = 'active')",
    )
    .bind(trainer)
    .bind(client)
    .fetch_one(conn)
    .await
}
