//! SQL of workouts and their entries.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use uuid::Uuid;

type Bound<'q, O> = sqlx::query::QueryAs<'q, Postgres, O, PgArguments>;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkoutRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    #[sqlx(flatten)]
    pub fields: WorkoutFields,
    pub exercise_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, creator_id, title, description, difficulty, visibility,
    category_ids, thumbnail_url, duration_seconds, estimated_calories, exercise_count,
    created_at, updated_at";

/// The writable header fields of a workout, validated, enums as stored names.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct WorkoutFields {
    pub title: String,
    pub description: String,
    pub difficulty: String,
    pub visibility: String,
    pub category_ids: Vec<String>,
    pub thumbnail_url: String,
    pub duration_seconds: i32,
    pub estimated_calories: i32,
}

/// One stored entry: its exercise and the prost encoding of the normalised entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntryRow {
    pub exercise_id: Uuid,
    pub entry: Vec<u8>,
}

/// Binds the header fields of a workout to the placeholders $2-$9 (the id is $1).
fn bind_fields<'q, O>(q: Bound<'q, O>, f: &'q WorkoutFields) -> Bound<'q, O> {
    q.bind(&f.title)
        .bind(&f.description)
        .bind(&f.difficulty)
        .bind(&f.visibility)
        .bind(&f.category_ids)
        .bind(&f.thumbnail_url)
        .bind(f.duration_seconds)
        .bind(f.estimated_calories)
}

pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    creator: Uuid,
    f: &WorkoutFields,
    entries: &[EntryRow],
) -> sqlx::Result<WorkoutRow> {
    let sql = format!(
        "INSERT INTO workouts (id, title, description, difficulty, visibility, category_ids,
             thumbnail_url, duration_seconds, estimated_calories, creator_id, exercise_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {COLUMNS}"
    );
    let row = bind_fields(sqlx::query_as(&sql).bind(id), f)
        .bind(creator)
        .bind(entries.len() as i32)
        .fetch_one(&mut *conn)
        .await?;
    write_entries(conn, id, entries).await?;
    Ok(row)
}

/// Replaces the header fields, and the entries when `entries` is given.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &WorkoutFields,
    entries: Option<&[EntryRow]>,
) -> sqlx::Result<WorkoutRow> {
    if let Some(entries) = entries {
        sqlx::query("DELETE FROM workout_exercises WHERE workout_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        write_entries(conn, id, entries).await?;
    }
    let sql = format!(
        "UPDATE workouts SET title = $2, description = $3, difficulty = $4, visibility = $5,
             category_ids = $6, thumbnail_url = $7, duration_seconds = $8,
             estimated_calories = $9,
             exercise_count = (SELECT count(*) FROM workout_exercises WHERE workout_id = $1),
             updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    bind_fields(sqlx::query_as(&sql).bind(id), f)
        .fetch_one(conn)
        .await
}

async fn write_entries(
    conn: &mut PgConnection,
    id: Uuid,
    entries: &[EntryRow],
) -> sqlx::Result<()> {
    let positions: Vec<i32> = (1..=entries.len() as i32).collect();
    let exercises: Vec<Uuid> = entries.iter().map(|e| e.exercise_id).collect();
    let blobs: Vec<Vec<u8>> = entries.iter().map(|e| e.entry.clone()).collect();
    sqlx::query(
        "INSERT INTO workout_exercises (workout_id, position, exercise_id, entry)
         SELECT $1, p, x, b FROM unnest($2::int[], $3::uuid[], $4::bytea[]) AS t(p, x, b)",
    )
    .bind(id)
    .bind(&positions)
    .bind(&exercises)
    .bind(&blobs)
    .execute(conn)
    .await?;
    Ok(())
}

/// One workout; `lock` takes it FOR UPDATE.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<WorkoutRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM workouts WHERE id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The entries of a workout in order.
pub async fn entries(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Vec<EntryRow>> {
    sqlx::query_as(
        "SELECT exercise_id, entry FROM workout_exercises WHERE workout_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await
}

/// Whether a program's day schedules the workout.
pub async fn in_program(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM program_days WHERE workout_id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM workouts WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The filters of ListWorkouts, enums as stored names.
#[derive(Debug, Clone, Default)]
pub struct WorkoutFilter {
    pub viewer: Uuid,
    pub category: Option<String>,
    pub difficulty: Option<String>,
    pub min_duration: Option<i32>,
    pub max_duration: Option<i32>,
    /// Some(true): premium only; Some(false): everything but premium.
    pub premium: Option<bool>,
    pub creator: Option<Uuid>,
    pub equipment: Option<String>,
    pub muscle_group: Option<String>,
    /// None: public, premium and the viewer's private ones.
    pub visibility: Option<String>,
    pub query: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedWorkout {
    #[sqlx(flatten)]
    pub row: WorkoutRow,
    pub score: f64,
}

/// A page of workouts, by relevance (with a query) then newest first; `after` is the
/// (score, id) of the previous page's last row (score 0 without a query).
pub async fn list(
    conn: &mut PgConnection,
    f: &WorkoutFilter,
    after: Option<(f64, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ListedWorkout>> {
    let pattern = f
        .query
        .as_deref()
        .map(|q| format!("%{}%", super::catalog::escape_like(q)));
    sqlx::query_as(&format!(
        "SELECT * FROM (
           SELECT {COLUMNS},
             CASE WHEN $11::text IS NULL THEN 0::float8 ELSE
               ts_rank(search, websearch_to_tsquery('english', $11))::float8 END AS score
           FROM workouts w
           WHERE (visibility IN ('public', 'premium') OR creator_id = $1)
             AND ($2::text IS NULL OR $2 = ANY(category_ids))
             AND ($3::text IS NULL OR difficulty = $3)
             AND ($4::int IS NULL OR duration_seconds >= $4)
             AND ($5::int IS NULL OR duration_seconds <= $5)
             AND ($6::bool IS NULL OR (visibility = 'premium') = $6)
             AND ($7::uuid IS NULL OR creator_id = $7)
             AND ($8::text IS NULL OR EXISTS (
                   SELECT 1 FROM workout_exercises we JOIN exercises e ON e.id = we.exercise_id
                   WHERE we.workout_id = w.id AND $8 = ANY(e.equipment)))
             AND ($9::text IS NULL OR EXISTS (
                   SELECT 1 FROM workout_exercises we JOIN exercises e ON e.id = we.exercise_id
                   WHERE we.workout_id = w.id AND $9 = ANY(e.primary_groups)))
             AND ($10::text IS NULL OR visibility = $10)
             AND ($11::text IS NULL OR search @@ websearch_to_tsquery('english', $11)
                  OR title ILIKE $12)
         ) w
         WHERE $13::float8 IS NULL OR w.score < $13 OR (w.score = $13 AND w.id < $14)
         ORDER BY w.score DESC, w.id DESC
         LIMIT $15"
    ))
    .bind(f.viewer)
    .bind(f.category.as_deref())
    .bind(f.difficulty.as_deref())
    .bind(f.min_duration)
    .bind(f.max_duration)
    .bind(f.premium)
    .bind(f.creator)
    .bind(f.equipment.as_deref())
    .bind(f.muscle_group.as_deref())
    .bind(f.visibility.as_deref())
    .bind(f.query.as_deref())
    .bind(pattern)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}
