//! The local replica of users and blocks, built from `tribe.user.v1` events: handles for
//! summaries (when the user service is not asked) and who blocked whom.

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

/// (id, handle, is_trainer) of the known users among `ids`.
pub async fn summaries(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String, bool)>> {
    sqlx::query_as("SELECT id, handle, is_trainer FROM users WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

pub async fn set_block(
    conn: &mut PgConnection,
    blocker: Uuid,
    blocked: Uuid,
    blocking: bool,
) -> sqlx::Result<()> {
    let sql = if blocking {
        "INSERT INTO blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2"
    };
    sqlx::query(sql)
        .bind(blocker)
        .bind(blocked)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_blocked(
    conn: &mut PgConnection,
    blocker: Uuid,
    blocked: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker_id = $1 AND blocked_id = $2)",
    )
    .bind(blocker)
    .bind(blocked)
    .fetch_one(conn)
    .await
}
