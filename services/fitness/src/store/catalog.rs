//! SQL of the category catalog and the exercise catalog.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::postgres::{PgArguments, Postgres};
use uuid::Uuid;

type Bound<'q, O> = sqlx::query::QueryAs<'q, Postgres, O, PgArguments>;

/// What other resources need to know about a catalog exercise.
#[derive(Debug, Clone)]
pub struct ExerciseFacts {
    pub name: String,
    /// `pb::MuscleGroup` values trained as prime movers (derived from muscles when the
    /// exercise names individual muscles).
    pub primary_groups: Vec<i32>,
    /// APPROVED: usable by everyone; otherwise only by `creator_id` (and admins).
    pub approved: bool,
    pub creator_id: Option<Uuid>,
}

impl ExerciseFacts {
    /// Whether `user` may use the exercise: approved ones everybody, others their
    /// creator and admins.
    pub fn usable_by(&self, user: Uuid, admin: bool) -> bool {
        self.approved || admin || self.creator_id == Some(user)
    }
}

/// Facts of the exercises in `ids` that exist (any status).
pub async fn exercise_facts(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, ExerciseFacts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    type FactsRow = (Uuid, String, Vec<String>, String, Option<Uuid>);
    let rows: Vec<FactsRow> = sqlx::query_as(
        "SELECT id, name, primary_groups, status, creator_id FROM exercises WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, groups, status, creator_id)| {
            let facts = ExerciseFacts {
                name,
                primary_groups: groups
                    .iter()
                    .map(|g| crate::convert::catalog::group_number(g))
                    .collect(),
                approved: status == "approved",
                creator_id,
            };
            (id, facts)
        })
        .collect())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: String,
    pub display_name: String,
    pub description: String,
    pub icon_url: String,
}

/// Categories after `after` by id.
pub async fn categories(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<CategoryRow>> {
    sqlx::query_as(
        "SELECT id, display_name, description, icon_url FROM categories
         WHERE $1::text IS NULL OR id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The ids of `ids` that are not in the category catalog.
pub async fn unknown_categories(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT wanted FROM unnest($1::text[]) AS wanted
         WHERE NOT EXISTS (SELECT 1 FROM categories c WHERE c.id = wanted)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExerciseRow {
    pub id: Uuid,
    #[sqlx(flatten)]
    pub fields: ExerciseFields,
    pub creator_id: Option<Uuid>,
    pub status: String,
    pub review_note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, name, description, instructions, primary_groups, secondary_groups,
    primary_muscles, secondary_muscles, equipment, difficulty, mechanics, aliases,
    category_ids, thumbnail_url, video_url, creator_id, status, review_note, created_at,
    updated_at";

/// The writable fields of an exercise, validated, enums as stored names.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct ExerciseFields {
    pub name: String,
    pub description: String,
    pub instructions: Vec<String>,
    pub primary_groups: Vec<String>,
    pub secondary_groups: Vec<String>,
    pub primary_muscles: Vec<String>,
    pub secondary_muscles: Vec<String>,
    pub equipment: Vec<String>,
    pub difficulty: String,
    pub mechanics: String,
    pub aliases: Vec<String>,
    pub category_ids: Vec<String>,
    pub thumbnail_url: String,
    pub video_url: String,
}

/// Binds the writable fields of an exercise to the placeholders $2-$15 (the id is $1).
fn bind_fields<'q, O>(q: Bound<'q, O>, f: &'q ExerciseFields) -> Bound<'q, O> {
    q.bind(&f.name)
        .bind(&f.description)
        .bind(&f.instructions)
        .bind(&f.primary_groups)
        .bind(&f.secondary_groups)
        .bind(&f.primary_muscles)
        .bind(&f.secondary_muscles)
        .bind(&f.equipment)
        .bind(&f.difficulty)
        .bind(&f.mechanics)
        .bind(&f.aliases)
        .bind(&f.category_ids)
        .bind(&f.thumbnail_url)
        .bind(&f.video_url)
}

/// Inserts an exercise; a taken name fails with SQLSTATE 23505.
pub async fn insert(
    conn: &mut PgConnection,
    id: Uuid,
    creator: Uuid,
    status: &str,
    f: &ExerciseFields,
) -> sqlx::Result<ExerciseRow> {
    let sql = format!(
        "INSERT INTO exercises (id, name, description, instructions, primary_groups,
             secondary_groups, primary_muscles, secondary_muscles, equipment, difficulty,
             mechanics, aliases, category_ids, thumbnail_url, video_url, creator_id, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         RETURNING {COLUMNS}"
    );
    bind_fields(sqlx::query_as(&sql).bind(id), f)
        .bind(creator)
        .bind(status)
        .fetch_one(conn)
        .await
}

/// Replaces the writable fields and the review state of an exercise.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    review_note: &str,
    f: &ExerciseFields,
) -> sqlx::Result<ExerciseRow> {
    let sql = format!(
        "UPDATE exercises SET name = $2, description = $3, instructions = $4,
             primary_groups = $5, secondary_groups = $6, primary_muscles = $7,
             secondary_muscles = $8, equipment = $9, difficulty = $10, mechanics = $11,
             aliases = $12, category_ids = $13, thumbnail_url = $14, video_url = $15,
             status = $16, review_note = $17, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    bind_fields(sqlx::query_as(&sql).bind(id), f)
        .bind(status)
        .bind(review_note)
        .fetch_one(conn)
        .await
}

/// Sets the review state of an exercise.
pub async fn review(
    conn: &mut PgConnection,
    id: Uuid,
    status: &str,
    note: &str,
) -> sqlx::Result<Option<ExerciseRow>> {
    sqlx::query_as(&format!(
        "UPDATE exercises SET status = $2, review_note = $3, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .bind(note)
    .fetch_optional(conn)
    .await
}

/// One exercise (any status); `lock` takes it FOR UPDATE.
pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<ExerciseRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exercises WHERE id = $1{suffix}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The exercises of `ids` that exist (any status).
pub async fn by_ids(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<ExerciseRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM exercises WHERE id = ANY($1)"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Whether any workout entry uses the exercise.
pub async fn in_use(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM workout_exercises WHERE exercise_id = $1)")
        .bind(id)
        .fetch_one(conn)
        .await
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query("DELETE FROM exercises WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The filters of ListExercises, enums as stored names.
#[derive(Debug, Clone, Default)]
pub struct ExerciseFilter {
    pub viewer: Uuid,
    pub admin: bool,
    /// None: approved plus the viewer's own; Some: that state (all of it for admins).
    pub status: Option<String>,
    pub group: Option<String>,
    pub muscle: Option<String>,
    pub equipment: Option<String>,
    pub mechanics: Option<String>,
    pub query: Option<String>,
}

/// Where the previous page ended: (score, lower(name), id); score is 0 without a query.
pub type ExerciseCursor = (f64, String, Uuid);

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedExercise {
    #[sqlx(flatten)]
    pub row: ExerciseRow,
    pub lname: String,
    pub score: f64,
}

/// A page of exercises: by relevance then name with a query, by name otherwise.
pub async fn list(
    conn: &mut PgConnection,
    f: &ExerciseFilter,
    after: Option<&ExerciseCursor>,
    limit: i64,
) -> sqlx::Result<Vec<ListedExercise>> {
    let pattern = f.query.as_deref().map(|q| format!("%{}%", escape_like(q)));
    let prefix = f.query.as_deref().map(|q| format!("{}%", escape_like(q)));
    let (score, name, id) = match after {
        Some((s, n, i)) => (Some(*s), Some(n.as_str()), Some(*i)),
        None => (None, None, None),
    };
    sqlx::query_as(&format!(
        "SELECT * FROM (
           SELECT {COLUMNS}, lower(name) AS lname,
             CASE WHEN $8::text IS NULL THEN 0::float8 ELSE
               ts_rank(search, websearch_to_tsquery('english', $8))::float8
               + CASE WHEN lower(name) = lower($8) THEN 10 ELSE 0 END
               + CASE WHEN name ILIKE $10 THEN 1 ELSE 0 END END AS score
           FROM exercises
           WHERE (CASE WHEN $1::text IS NULL THEN status = 'approved' OR creator_id = $2
                       ELSE status = $1 AND ($3 OR creator_id = $2) END)
             AND ($4::text IS NULL OR $4 = ANY(primary_groups) OR $4 = ANY(secondary_groups))
             AND ($5::text IS NULL OR $5 = ANY(primary_muscles) OR $5 = ANY(secondary_muscles))
             AND ($6::text IS NULL OR $6 = ANY(equipment))
             AND ($7::text IS NULL OR mechanics = $7)
             AND ($8::text IS NULL OR search @@ websearch_to_tsquery('english', $8)
                  OR name ILIKE $9 OR EXISTS (SELECT 1 FROM unnest(aliases) a WHERE a ILIKE $9))
         ) e
         WHERE $11::float8 IS NULL OR e.score < $11
            OR (e.score = $11 AND (e.lname, e.id) > ($12, $13))
         ORDER BY e.score DESC, e.lname, e.id
         LIMIT $14"
    ))
    .bind(f.status.as_deref())
    .bind(f.viewer)
    .bind(f.admin)
    .bind(f.group.as_deref())
    .bind(f.muscle.as_deref())
    .bind(f.equipment.as_deref())
    .bind(f.mechanics.as_deref())
    .bind(f.query.as_deref())
    .bind(pattern)
    .bind(prefix)
    .bind(score)
    .bind(name)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// `text` with LIKE's wildcards escaped (backslash is ILIKE's default escape).
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
