//! SQL of a user's training history as progression reads it (progress_logs and
//! progress_sets, see migrations/fitness/0005_progress.sql).

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

/// One performed set of the user's history of a workout, newest log first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistorySet {
    pub log_id: Uuid,
    pub exercise_id: Uuid,
    pub workout_position: i32,
    pub set_type: String,
    pub reps: i32,
    pub weight_kg: Option<f64>,
    pub completed: bool,
    pub target_met: bool,
}

/// The sets of `user`'s latest `logs` logs of `workout_id` linked to an entry, newest log
/// first, then in performed order.
pub async fn workout_history(
    conn: &mut PgConnection,
    user: Uuid,
    workout_id: Uuid,
    logs: i64,
) -> sqlx::Result<Vec<HistorySet>> {
    sqlx::query_as(
        "WITH recent AS (
            SELECT id, completed_at FROM progress_logs
             WHERE user_id = $1 AND workout_id = $2
             ORDER BY completed_at DESC, id DESC LIMIT $3)
         SELECT s.log_id, s.exercise_id, s.workout_position, s.set_type, s.reps, s.weight_kg,
                s.completed, s.target_met
           FROM progress_sets s JOIN recent r ON r.id = s.log_id
          WHERE s.user_id = $1 AND s.workout_position > 0
          ORDER BY r.completed_at DESC, r.id DESC, s.position, s.set_number",
    )
    .bind(user)
    .bind(workout_id)
    .bind(logs)
    .fetch_all(conn)
    .await
}

/// `user`'s best Epley estimate per exercise in `exercises` over completed working and
/// AMRAP sets of 1-12 reps with weight.
pub async fn one_rep_maxes(
    conn: &mut PgConnection,
    user: Uuid,
    exercises: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, f64>> {
    let rows: Vec<(Uuid, f64)> = sqlx::query_as(
        "SELECT exercise_id,
                MAX(CASE WHEN reps = 1 THEN weight_kg ELSE weight_kg * (1 + reps / 30.0) END)
           FROM progress_sets
          WHERE user_id = $1 AND exercise_id = ANY($2) AND completed
            AND set_type IN ('working', 'amrap') AND reps BETWEEN 1 AND 12 AND weight_kg > 0
          GROUP BY exercise_id",
    )
    .bind(user)
    .bind(exercises)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}
