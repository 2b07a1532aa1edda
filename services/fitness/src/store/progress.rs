//! SQL of progress logs: the logs, their exercises and sets, and the per-user scans
//! statistics and records are computed from.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use uuid::Uuid;

use super::window::{self, UserWindow};

type Bound<'q, O> = sqlx::query::QueryAs<'q, Postgres, O, PgArguments>;

/// One logged session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub workout_id: Option<Uuid>,
    pub workout_creator_id: Option<Uuid>,
    pub enrollment_id: Option<Uuid>,
    pub program_id: Option<Uuid>,
    pub program_day_number: i32,
    pub title: String,
    pub duration_seconds: i32,
    pub calories: i32,
    pub volume_kg: f64,
    pub perceived_exertion: i32,
    pub rating: i32,
    pub notes: String,
    pub completed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One exercise of a log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExerciseRow {
    pub log_id: Uuid,
    pub position: i32,
    pub exercise_id: Uuid,
    pub workout_position: i32,
    pub notes: String,
}

/// One performed set.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SetRow {
    pub log_id: Uuid,
    pub position: i32,
    pub set_number: i32,
    pub exercise_id: Uuid,
    pub workout_position: i32,
    pub set_type: String,
    pub reps: i32,
    pub weight_kg: Option<f64>,
    pub duration_seconds: i32,
    pub distance_meters: f64,
    pub rpe: f64,
    pub prescribed_set: i32,
    pub completed: bool,
    pub target_met: bool,
    pub completed_at: DateTime<Utc>,
}

/// A log with its exercises and their sets, in order.
#[derive(Debug, Clone)]
pub struct FullLog {
    pub log: LogRow,
    pub exercises: Vec<(ExerciseRow, Vec<SetRow>)>,
}

const LOG_COLUMNS: &str = "id, user_id, workout_id, workout_creator_id, enrollment_id, program_id,
    program_day_number, title, duration_seconds, calories, volume_kg, perceived_exertion, rating,
    notes, completed_at, created_at, updated_at";

const SET_COLUMNS: &str = "log_id, position, set_number, exercise_id, workout_position, set_type,
    reps, weight_kg, duration_seconds, distance_meters, rpe, prescribed_set, completed,
    target_met, completed_at";

/// Serialises the writes of one user's logs (streaks and records are computed from
/// all of them) until the transaction ends.
pub async fn lock_user(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('progress:' || $1::text))")
        .bind(user)
        .execute(conn)
        .await?;
    Ok(())
}

/// Binds the writable fields of a log to the placeholders $2-$9 (the id is $1).
fn bind_fields<'q, O>(q: Bound<'q, O>, log: &'q LogRow) -> Bound<'q, O> {
    q.bind(&log.title)
        .bind(log.duration_seconds)
        .bind(log.calories)
        .bind(log.volume_kg)
        .bind(log.perceived_exertion)
        .bind(log.rating)
        .bind(&log.notes)
        .bind(log.completed_at)
}

pub async fn insert_log(conn: &mut PgConnection, log: &LogRow) -> sqlx::Result<()> {
    let _: (DateTime<Utc>,) = bind_fields(
        sqlx::query_as(
            "INSERT INTO progress_logs (id, title, duration_seconds, calories, volume_kg,
                 perceived_exertion, rating, notes, completed_at, user_id, workout_id,
                 workout_creator_id, enrollment_id, program_id, program_day_number,
                 created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
             RETURNING updated_at",
        )
        .bind(log.id),
        log,
    )
    .bind(log.user_id)
    .bind(log.workout_id)
    .bind(log.workout_creator_id)
    .bind(log.enrollment_id)
    .bind(log.program_id)
    .bind(log.program_day_number)
    .bind(log.created_at)
    .fetch_one(conn)
    .await?;
    Ok(())
}

/// Writes the exercises and sets of `log_id` (after deleting any it had).
pub async fn replace_exercises(
    conn: &mut PgConnection,
    log_id: Uuid,
    user_id: Uuid,
    exercises: &[(ExerciseRow, Vec<SetRow>)],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM progress_exercises WHERE log_id = $1")
        .bind(log_id)
        .execute(&mut *conn)
        .await?;
    for (exercise, sets) in exercises {
        sqlx::query(
            "INSERT INTO progress_exercises (log_id, position, exercise_id, workout_position, notes)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(log_id)
        .bind(exercise.position)
        .bind(exercise.exercise_id)
        .bind(exercise.workout_position)
        .bind(&exercise.notes)
        .execute(&mut *conn)
        .await?;
        for set in sets {
            sqlx::query(
                "INSERT INTO progress_sets (log_id, position, set_number, user_id, exercise_id,
                     workout_position, set_type, reps, weight_kg, duration_seconds,
                     distance_meters, rpe, prescribed_set, completed, target_met, completed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(log_id)
            .bind(set.position)
            .bind(set.set_number)
            .bind(user_id)
            .bind(set.exercise_id)
            .bind(set.workout_position)
            .bind(&set.set_type)
            .bind(set.reps)
            .bind(set.weight_kg)
            .bind(set.duration_seconds)
            .bind(set.distance_meters)
            .bind(set.rpe)
            .bind(set.prescribed_set)
            .bind(set.completed)
            .bind(set.target_met)
            .bind(set.completed_at)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Rewrites the scalar fields of a log (its exercises go through `replace_exercises`).
pub async fn update_log(conn: &mut PgConnection, log: &LogRow) -> sqlx::Result<DateTime<Utc>> {
    let (updated,): (DateTime<Utc>,) = bind_fields(
        sqlx::query_as(
            "UPDATE progress_logs SET title = $2, duration_seconds = $3, calories = $4,
                 volume_kg = $5, perceived_exertion = $6, rating = $7, notes = $8,
                 completed_at = $9, updated_at = now()
             WHERE id = $1 RETURNING updated_at",
        )
        .bind(log.id),
        log,
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("UPDATE progress_sets SET completed_at = $2 WHERE log_id = $1")
        .bind(log.id)
        .bind(log.completed_at)
        .execute(conn)
        .await?;
    Ok(updated)
}

/// Fills in what a new log learned after its insert: the program day's workout, the
/// program, the defaulted title and the volume of its sets.
pub async fn set_context(conn: &mut PgConnection, log: &LogRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE progress_logs SET workout_id = $2, workout_creator_id = $3, program_id = $4,
             title = $5, volume_kg = $6
         WHERE id = $1",
    )
    .bind(log.id)
    .bind(log.workout_id)
    .bind(log.workout_creator_id)
    .bind(log.program_id)
    .bind(&log.title)
    .bind(log.volume_kg)
    .execute(conn)
    .await?;
    Ok(())
}

/// A log row, locked for a change.
pub async fn lock_log(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<LogRow>> {
    sqlx::query_as(&format!(
        "SELECT {LOG_COLUMNS} FROM progress_logs WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn delete_log(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM progress_sets WHERE log_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM progress_logs WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One page of a user's logs by completion time, most recent first.
pub async fn page(conn: &mut PgConnection, w: &UserWindow) -> sqlx::Result<Vec<LogRow>> {
    window::fetch(
        conn,
        &format!("SELECT {LOG_COLUMNS} FROM progress_logs"),
        "completed_at",
        w,
    )
    .await
}

/// The logs of `ids` with their exercises and sets, in the order of `logs`.
pub async fn hydrate(conn: &mut PgConnection, logs: Vec<LogRow>) -> sqlx::Result<Vec<FullLog>> {
    let ids: Vec<Uuid> = logs.iter().map(|l| l.id).collect();
    let exercises: Vec<ExerciseRow> = sqlx::query_as(
        "SELECT log_id, position, exercise_id, workout_position, notes FROM progress_exercises
          WHERE log_id = ANY($1) ORDER BY log_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let sets: Vec<SetRow> = sqlx::query_as(&format!(
        "SELECT {SET_COLUMNS} FROM progress_sets WHERE log_id = ANY($1)
          ORDER BY log_id, position, set_number"
    ))
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    Ok(logs
        .into_iter()
        .map(|log| {
            let exercises = exercises
                .iter()
                .filter(|e| e.log_id == log.id)
                .map(|e| {
                    let sets = sets
                        .iter()
                        .filter(|s| s.log_id == log.id && s.position == e.position)
                        .cloned()
                        .collect();
                    (e.clone(), sets)
                })
                .collect();
            FullLog { log, exercises }
        })
        .collect())
}

/// What statistics need of every log of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LogFacts {
    pub completed_at: DateTime<Utc>,
    pub duration_seconds: i32,
    pub calories: i32,
    pub volume_kg: f64,
}

/// Every log of `user`, oldest first.
pub async fn log_facts(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Vec<LogFacts>> {
    sqlx::query_as(
        "SELECT completed_at, duration_seconds, calories, volume_kg FROM progress_logs
          WHERE user_id = $1 ORDER BY completed_at",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// A completed hard (non-warm-up) set since a time, for muscle volume.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HardSet {
    pub completed_at: DateTime<Utc>,
    pub exercise_id: Uuid,
    pub reps: i32,
    pub weight_kg: Option<f64>,
}

pub async fn hard_sets_since(
    conn: &mut PgConnection,
    user: Uuid,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<HardSet>> {
    sqlx::query_as(
        "SELECT completed_at, exercise_id, reps, weight_kg FROM progress_sets
          WHERE user_id = $1 AND completed_at >= $2 AND completed AND set_type <> 'warm_up'",
    )
    .bind(user)
    .bind(since)
    .fetch_all(conn)
    .await
}

/// Epley estimated one-rep max of a record-eligible set, in SQL.
const E1RM: &str = "CASE WHEN reps = 1 THEN weight_kg ELSE weight_kg * (1 + reps / 30.0) END";
/// Sets that count for records: completed WORKING/AMRAP sets of 1-12 reps with weight.
const ELIGIBLE: &str = "completed AND set_type IN ('working', 'amrap') AND reps BETWEEN 1 AND 12
    AND weight_kg IS NOT NULL AND weight_kg > 0";

/// The best set of one exercise (by e1RM), or of one rep count (by load).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BestSet {
    pub exercise_id: Uuid,
    pub log_id: Uuid,
    pub reps: i32,
    pub weight_kg: f64,
    pub e1rm: f64,
    pub completed_at: DateTime<Utc>,
}

/// The best e1RM set per exercise of `user` (restricted to `exercises` when given);
/// ties go to the earliest.
pub async fn best_per_exercise(
    conn: &mut PgConnection,
    user: Uuid,
    exercises: Option<&[Uuid]>,
) -> sqlx::Result<Vec<BestSet>> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT ON (exercise_id) exercise_id, log_id, reps, weight_kg,
                {E1RM} AS e1rm, completed_at
           FROM progress_sets
          WHERE user_id = $1 AND ($2::uuid[] IS NULL OR exercise_id = ANY($2)) AND {ELIGIBLE}
          ORDER BY exercise_id, e1rm DESC, completed_at, log_id"
    ))
    .bind(user)
    .bind(exercises)
    .fetch_all(conn)
    .await
}

/// The heaviest set per (exercise, reps) of `user` for `exercises`.
pub async fn rep_maxes(
    conn: &mut PgConnection,
    user: Uuid,
    exercises: &[Uuid],
) -> sqlx::Result<Vec<BestSet>> {
    sqlx::query_as(&format!(
        "SELECT DISTINCT ON (exercise_id, reps) exercise_id, log_id, reps, weight_kg,
                {E1RM} AS e1rm, completed_at
           FROM progress_sets
          WHERE user_id = $1 AND exercise_id = ANY($2) AND {ELIGIBLE}
          ORDER BY exercise_id, reps, weight_kg DESC, completed_at, log_id"
    ))
    .bind(user)
    .bind(exercises)
    .fetch_all(conn)
    .await
}

/// Number of logs of `user`.
pub async fn count(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM progress_logs WHERE user_id = $1")
        .bind(user)
        .fetch_one(conn)
        .await
}

/// When each log of `user` was completed.
pub async fn completion_times(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Vec<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT completed_at FROM progress_logs WHERE user_id = $1")
        .bind(user)
        .fetch_all(conn)
        .await
}

/// One page of `user`'s logs containing `exercise`, most recent first: (id, completed_at).
pub async fn exercise_sessions(
    conn: &mut PgConnection,
    user: Uuid,
    exercise: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, DateTime<Utc>)>> {
    let (after_at, after_id) = after.unzip();
    sqlx::query_as(
        "SELECT l.id, l.completed_at FROM progress_logs l
          WHERE l.user_id = $1
            AND EXISTS (SELECT 1 FROM progress_exercises e
                         WHERE e.log_id = l.id AND e.exercise_id = $2)
            AND ($3::timestamptz IS NULL OR (l.completed_at, l.id) < ($3, $4))
          ORDER BY l.completed_at DESC, l.id DESC
          LIMIT $5",
    )
    .bind(user)
    .bind(exercise)
    .bind(after_at)
    .bind(after_id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The sets of `exercise` in the logs `ids`, in order.
pub async fn exercise_sets(
    conn: &mut PgConnection,
    ids: &[Uuid],
    exercise: Uuid,
) -> sqlx::Result<Vec<SetRow>> {
    sqlx::query_as(&format!(
        "SELECT {SET_COLUMNS} FROM progress_sets WHERE log_id = ANY($1) AND exercise_id = $2
          ORDER BY log_id, position, set_number"
    ))
    .bind(ids)
    .bind(exercise)
    .fetch_all(conn)
    .await
}
