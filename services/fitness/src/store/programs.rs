//! SQL of programs, their days, enrollments and the days enrollments completed.

pub mod history;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::header::{self, Header};

/// Where an enrollment stands, stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentState {
    Active,
    Completed,
    Paused,
    Left,
}

impl EnrollmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Completed => "completed",
            Self::Paused => "paused",
            Self::Left => "left",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        match stored {
            "active" => Some(Self::Active),
            "completed" => Some(Self::Completed),
            "paused" => Some(Self::Paused),
            "left" => Some(Self::Left),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProgramRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub title: String,
    pub description: String,
    pub difficulty: i32,
    pub is_premium: bool,
    pub category_ids: Vec<String>,
    pub thumbnail_url: String,
    pub duration_days: i32,
    pub workout_day_count: i32,
    pub enrollment_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const PROGRAM_COLUMNS: &str = "id, creator_id, title, description, difficulty, is_premium, \
     category_ids, thumbnail_url, duration_days, workout_day_count, enrollment_count, \
     created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub day_number: i32,
    pub workout_id: Option<Uuid>,
    pub notes: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnrollmentRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub program_id: Uuid,
    pub status: String,
    pub assigned_by_id: Option<Uuid>,
    pub started_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub paused_at: Option<DateTime<Utc>>,
    pub left_at: Option<DateTime<Utc>>,
    pub paused_seconds: i64,
}

impl EnrollmentRow {
    /// The stored state; an unreadable one counts as LEFT (grants nothing).
    pub fn state(&self) -> EnrollmentState {
        EnrollmentState::parse(&self.status).unwrap_or(EnrollmentState::Left)
    }
}

const ENROLLMENT_COLUMNS: &str = "id, user_id, program_id, status, assigned_by_id, started_at, \
     completed_at, paused_at, left_at, paused_seconds";

/// A program to insert (its days go with `insert_days`).
pub struct NewProgram<'a> {
    pub header: Header<'a>,
    pub duration_days: i32,
    pub workout_day_count: i32,
}

pub async fn insert_program(conn: &mut PgConnection, p: &NewProgram<'_>) -> sqlx::Result<()> {
    let sql = format!(
        "INSERT INTO programs ({}, duration_days, workout_day_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        header::COLUMNS
    );
    header::bind(sqlx::query(&sql), &p.header)
        .bind(p.duration_days)
        .bind(p.workout_day_count)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn insert_days(
    conn: &mut PgConnection,
    program_id: Uuid,
    days: &[DayRow],
) -> sqlx::Result<()> {
    let numbers: Vec<i32> = days.iter().map(|d| d.day_number).collect();
    let workouts: Vec<Option<Uuid>> = days.iter().map(|d| d.workout_id).collect();
    let notes: Vec<String> = days.iter().map(|d| d.notes.clone()).collect();
    sqlx::query(
        "INSERT INTO program_days (program_id, day_number, workout_id, notes)
         SELECT $1, * FROM UNNEST($2::int[], $3::uuid[], $4::text[])",
    )
    .bind(program_id)
    .bind(&numbers)
    .bind(&workouts)
    .bind(&notes)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn program(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ProgramRow>> {
    sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM programs WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn programs_by_ids(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, ProgramRow>> {
    let rows: Vec<ProgramRow> = sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM programs WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

pub async fn days(conn: &mut PgConnection, program_id: Uuid) -> sqlx::Result<Vec<DayRow>> {
    sqlx::query_as(
        "SELECT day_number, workout_id, notes FROM program_days
          WHERE program_id = $1 ORDER BY day_number",
    )
    .bind(program_id)
    .fetch_all(conn)
    .await
}

/// The workout day numbers (ascending) of each program in `ids`.
pub async fn workout_days(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<i32>>> {
    let rows: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT program_id, day_number FROM program_days
          WHERE program_id = ANY($1) AND workout_id IS NOT NULL ORDER BY program_id, day_number",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<i32>> = HashMap::new();
    for (program, day) in rows {
        out.entry(program).or_default().push(day);
    }
    Ok(out)
}

/// Filters of ListPrograms; `None` is "any".
pub struct ProgramFilter<'a> {
    pub category_id: Option<&'a str>,
    pub difficulty: Option<i32>,
    pub premium: Option<bool>,
    pub creator_id: Option<Uuid>,
}

const FILTERS: &str = "($1::text IS NULL OR $1 = ANY(category_ids))
       AND ($2::int IS NULL OR difficulty = $2)
       AND ($3::bool IS NULL OR is_premium = $3)
       AND ($4::uuid IS NULL OR creator_id = $4)";

/// Newest first, after `(created_at, id)` when given.
pub async fn list_newest(
    conn: &mut PgConnection,
    f: &ProgramFilter<'_>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ProgramRow>> {
    sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM programs WHERE {FILTERS}
           AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
         ORDER BY created_at DESC, id DESC LIMIT $7"
    ))
    .bind(f.category_id)
    .bind(f.difficulty)
    .bind(f.premium)
    .bind(f.creator_id)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Best text match first for `query`, after `(rank, id)` when given.
pub async fn search(
    conn: &mut PgConnection,
    f: &ProgramFilter<'_>,
    query: &str,
    after: Option<(f64, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<(ProgramRow, f64)>> {
    #[derive(sqlx::FromRow)]
    struct Ranked {
        #[sqlx(flatten)]
        row: ProgramRow,
        rank: f64,
    }
    let rows: Vec<Ranked> = sqlx::query_as(&format!(
        "SELECT * FROM (
            SELECT {PROGRAM_COLUMNS},
                   ts_rank(search, websearch_to_tsquery('english', $5))::float8 AS rank
              FROM programs
             WHERE {FILTERS} AND search @@ websearch_to_tsquery('english', $5)) ranked
          WHERE ($6::float8 IS NULL OR (rank, id) < ($6, $7))
          ORDER BY rank DESC, id DESC LIMIT $8"
    ))
    .bind(f.category_id)
    .bind(f.difficulty)
    .bind(f.premium)
    .bind(f.creator_id)
    .bind(query)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.row, r.rank)).collect())
}

pub async fn count_enrollment(conn: &mut PgConnection, program_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE programs SET enrollment_count = enrollment_count + 1 WHERE id = $1")
        .bind(program_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Inserts an ACTIVE enrollment; `false` when the user already has an open one in the
/// program.
pub async fn insert_enrollment(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
    program_id: Uuid,
    assigned_by: Option<Uuid>,
    started_at: Option<DateTime<Utc>>,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO enrollments (id, user_id, program_id, status, assigned_by_id, started_at)
         VALUES ($1, $2, $3, 'active', $4, COALESCE($5, now()))
         ON CONFLICT (user_id, program_id) WHERE status IN ('active', 'paused') DO NOTHING",
    )
    .bind(id)
    .bind(user)
    .bind(program_id)
    .bind(assigned_by)
    .bind(started_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `user`'s enrollment `id`, locked for the transaction when `lock`.
pub async fn enrollment(
    conn: &mut PgConnection,
    user: Uuid,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<EnrollmentRow>> {
    let lock = if lock { "FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE id = $1 AND user_id = $2 {lock}"
    ))
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// `user`'s most recently started ACTIVE enrollment.
pub async fn latest_active(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Option<EnrollmentRow>> {
    sqlx::query_as(&format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments WHERE user_id = $1 AND status = 'active'
          ORDER BY started_at DESC, id DESC LIMIT 1"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// `user`'s enrollments newest first, after `(started_at, id)` when given.
pub async fn list_enrollments(
    conn: &mut PgConnection,
    user: Uuid,
    state: Option<EnrollmentState>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<EnrollmentRow>> {
    sqlx::query_as(&format!(
        "SELECT {ENROLLMENT_COLUMNS} FROM enrollments
          WHERE user_id = $1 AND ($2::text IS NULL OR status = $2)
            AND ($3::timestamptz IS NULL OR (started_at, id) < ($3, $4))
          ORDER BY started_at DESC, id DESC LIMIT $5"
    ))
    .bind(user)
    .bind(state.map(EnrollmentState::as_str))
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The completed day numbers (ascending, distinct) of each enrollment in `ids`.
pub async fn completed_days(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, Vec<i32>>> {
    let rows: Vec<(Uuid, i32)> = sqlx::query_as(
        "SELECT DISTINCT enrollment_id, day_number FROM enrollment_days
          WHERE enrollment_id = ANY($1) ORDER BY enrollment_id, day_number",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<Uuid, Vec<i32>> = HashMap::new();
    for (enrollment, day) in rows {
        out.entry(enrollment).or_default().push(day);
    }
    Ok(out)
}

/// Moves an enrollment to `state`: pausing stamps `paused_at`; leaving or resuming
/// folds a running pause into `paused_seconds`; completing stamps `completed_at`
/// (reopening clears it).
pub async fn set_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: EnrollmentState,
    at: DateTime<Utc>,
) -> sqlx::Result<EnrollmentRow> {
    sqlx::query_as(&format!(
        "UPDATE enrollments SET
            status = $2,
            paused_seconds = paused_seconds + CASE WHEN paused_at IS NOT NULL AND $2 <> 'paused'
                THEN GREATEST(0, EXTRACT(EPOCH FROM ($3 - paused_at)))::bigint ELSE 0 END,
            paused_at = CASE WHEN $2 = 'paused' THEN COALESCE(paused_at, $3) ELSE NULL END,
            left_at = CASE WHEN $2 = 'left' THEN $3 ELSE NULL END,
            completed_at = CASE WHEN $2 = 'completed' THEN $3 ELSE NULL END
          WHERE id = $1
          RETURNING {ENROLLMENT_COLUMNS}"
    ))
    .bind(id)
    .bind(state.as_str())
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn insert_completion(
    conn: &mut PgConnection,
    enrollment_id: Uuid,
    day_number: i32,
    log_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO enrollment_days (enrollment_id, day_number, log_id, completed_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(enrollment_id)
    .bind(day_number)
    .bind(log_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the completions of `log_id`; the enrollments they belonged to.
pub async fn delete_completions(conn: &mut PgConnection, log_id: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("DELETE FROM enrollment_days WHERE log_id = $1 RETURNING enrollment_id")
        .bind(log_id)
        .fetch_all(conn)
        .await
}

/// Reopens COMPLETED enrollments among `ids` that no longer have every workout day
/// (unless the user has enrolled in the program again since).
pub async fn reopen_incomplete(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE enrollments e SET status = 'active', completed_at = NULL
          WHERE e.id = ANY($1) AND e.status = 'completed'
            AND EXISTS (SELECT 1 FROM program_days d
                         WHERE d.program_id = e.program_id AND d.workout_id IS NOT NULL
                           AND NOT EXISTS (SELECT 1 FROM enrollment_days c
                                            WHERE c.enrollment_id = e.id
                                              AND c.day_number = d.day_number))
            AND NOT EXISTS (SELECT 1 FROM enrollments o
                             WHERE o.user_id = e.user_id AND o.program_id = e.program_id
                               AND o.status IN ('active', 'paused'))",
    )
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}
