//! SQL of challenges: the challenges, their participants and the scores computed from
//! progress logs (`challenge_score`, see migrations/fitness/0006_challenges.sql).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::header::{self, Header};

/// A challenge as the caller sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub title: String,
    pub description: String,
    pub difficulty: i32,
    pub is_premium: bool,
    pub category_ids: Vec<String>,
    pub thumbnail_url: String,
    pub metric: String,
    pub goal: f64,
    pub workout_id: Option<Uuid>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub participant_count: i64,
    /// The caller's participation.
    pub joined_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub my_score: f64,
}

/// A new challenge.
#[derive(Debug)]
pub struct NewChallenge<'a> {
    pub header: Header<'a>,
    pub metric: &'a str,
    pub goal: f64,
    pub workout_id: Option<Uuid>,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
}

/// One ranked participant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Standing {
    pub user_id: Uuid,
    pub joined_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub score: f64,
    pub rank: i64,
}

/// The list orders of ListChallenges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Running now, ending soonest first.
    Active,
    /// Not started, starting soonest first.
    Upcoming,
    /// Ended, newest start first.
    Past,
    /// Every challenge, newest start first.
    Any,
}

const VIEW: &str = "SELECT c.id, c.creator_id, c.title, c.description, c.difficulty, c.is_premium,
        c.category_ids, c.thumbnail_url, c.metric, c.goal, c.workout_id, c.start_at, c.end_at,
        c.created_at, c.updated_at,
        (SELECT count(*) FROM challenge_participants n
          WHERE n.challenge_id = c.id AND n.left_at IS NULL) AS participant_count,
        me.joined_at, me.completed_at,
        CASE WHEN me.user_id IS NULL THEN 0::float8
             ELSE challenge_score(c.metric, c.workout_id, me.user_id, c.start_at, c.end_at)
        END AS my_score
   FROM challenges c
   LEFT JOIN challenge_participants me
          ON me.challenge_id = c.id AND me.user_id = $1 AND me.left_at IS NULL";

pub async fn insert(conn: &mut PgConnection, c: &NewChallenge<'_>) -> sqlx::Result<()> {
    let sql = format!(
        "INSERT INTO challenges ({}, metric, goal, workout_id, start_at, end_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        header::COLUMNS
    );
    header::bind(sqlx::query(&sql), &c.header)
        .bind(c.metric)
        .bind(c.goal)
        .bind(c.workout_id)
        .bind(c.start_at)
        .bind(c.end_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// The challenge `id` as `viewer` sees it.
pub async fn get(
    conn: &mut PgConnection,
    viewer: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<ChallengeRow>> {
    sqlx::query_as(&format!("{VIEW} WHERE c.id = $2"))
        .bind(viewer)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the challenge row (joins and leaves against the finaliser) and returns its
/// end time, creator, premium flag and title.
pub async fn lock(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<(DateTime<Utc>, DateTime<Utc>, Uuid, bool, String)>> {
    sqlx::query_as(
        "SELECT start_at, end_at, creator_id, is_premium, title FROM challenges
          WHERE id = $1 FOR SHARE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A page of challenges in `order`, after the keyset position `after` (the order's
/// time, id).
#[allow(clippy::too_many_arguments)]
pub async fn list(
    conn: &mut PgConnection,
    viewer: Uuid,
    order: ListOrder,
    joined_only: bool,
    category: Option<&str>,
    now: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ChallengeRow>> {
    let (state, key, ascending) = match order {
        ListOrder::Active => ("c.start_at <= $2 AND c.end_at > $2", "c.end_at", true),
        ListOrder::Upcoming => ("c.start_at > $2", "c.start_at", true),
        ListOrder::Past => ("c.end_at <= $2", "c.start_at", false),
        ListOrder::Any => ("TRUE", "c.start_at", false),
    };
    let (cmp, dir) = if ascending {
        (">", "ASC")
    } else {
        ("<", "DESC")
    };
    let sql = format!(
        "{VIEW}
          WHERE {state}
            AND (NOT $3 OR me.user_id IS NOT NULL)
            AND ($4::text IS NULL OR $4 = ANY (c.category_ids))
            AND ($5::timestamptz IS NULL OR ({key}, c.id) {cmp} ($5, $6))
          ORDER BY {key} {dir}, c.id {dir}
          LIMIT $7"
    );
    sqlx::query_as(&sql)
        .bind(viewer)
        .bind(now)
        .bind(joined_only)
        .bind(category)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// Joins `user` (or re-activates a left participation, keeping the first join time).
/// True when this was the user's first join.
pub async fn join(conn: &mut PgConnection, challenge: Uuid, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "INSERT INTO challenge_participants (challenge_id, user_id) VALUES ($1, $2)
         ON CONFLICT (challenge_id, user_id) DO UPDATE SET left_at = NULL
         RETURNING (xmax = 0)",
    )
    .bind(challenge)
    .bind(user)
    .fetch_one(conn)
    .await
}

pub async fn leave(conn: &mut PgConnection, challenge: Uuid, user: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE challenge_participants SET left_at = now()
          WHERE challenge_id = $1 AND user_id = $2 AND left_at IS NULL",
    )
    .bind(challenge)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}

/// What awarding a completion needs to know about a locked participation.
#[derive(Debug, sqlx::FromRow)]
pub struct Pending {
    pub challenge_id: Uuid,
    pub creator_id: Uuid,
    pub title: String,
    pub goal: f64,
    pub score: f64,
}

/// Locks the participations of `user` that have not reached their goal, in challenges
/// whose window contains `at` (all of them for `only`), in id order so concurrent logs
/// queue up instead of deadlocking, and scores them after the lock was granted.
pub async fn lock_pending(
    conn: &mut PgConnection,
    user: Uuid,
    at: Option<DateTime<Utc>>,
    only: Option<Uuid>,
) -> sqlx::Result<Vec<Pending>> {
    let locked: Vec<Uuid> = sqlx::query_scalar(
        "SELECT p.challenge_id FROM challenge_participants p
           JOIN challenges c ON c.id = p.challenge_id
          WHERE p.user_id = $1 AND p.left_at IS NULL AND p.completed_at IS NULL
            AND c.end_at > now()
            AND ($2::timestamptz IS NULL OR (c.start_at <= $2 AND c.end_at > $2))
            AND ($3::uuid IS NULL OR c.id = $3)
          ORDER BY p.challenge_id
          FOR UPDATE OF p",
    )
    .bind(user)
    .bind(at)
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    if locked.is_empty() {
        return Ok(Vec::new());
    }
    // A fresh statement: its snapshot includes every log committed while we waited.
    sqlx::query_as(
        "SELECT c.id AS challenge_id, c.creator_id, c.title, c.goal,
                challenge_score(c.metric, c.workout_id, $1, c.start_at, c.end_at) AS score
           FROM challenges c WHERE c.id = ANY ($2)",
    )
    .bind(user)
    .bind(&locked)
    .fetch_all(conn)
    .await
}

pub async fn mark_completed(
    conn: &mut PgConnection,
    challenge: Uuid,
    user: Uuid,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE challenge_participants SET completed_at = now()
          WHERE challenge_id = $1 AND user_id = $2 AND completed_at IS NULL",
    )
    .bind(challenge)
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ranked participants of a challenge, best first (ties by earlier join), after the
/// keyset position `after` (score, join time, user), only `user` when given.
pub async fn standings(
    conn: &mut PgConnection,
    challenge: Uuid,
    after: Option<(f64, DateTime<Utc>, Uuid)>,
    user: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Standing>> {
    sqlx::query_as(
        "WITH scored AS (
             SELECT p.user_id, p.joined_at, p.completed_at,
                    challenge_score(c.metric, c.workout_id, p.user_id, c.start_at, c.end_at) AS score
               FROM challenge_participants p JOIN challenges c ON c.id = p.challenge_id
              WHERE p.challenge_id = $1 AND p.left_at IS NULL
         ), ranked AS (
             SELECT scored.*, rank() OVER (ORDER BY score DESC) AS rank FROM scored
         )
         SELECT user_id, joined_at, completed_at, score, rank FROM ranked
          WHERE ($2::float8 IS NULL OR score < $2
                 OR (score = $2 AND (joined_at, user_id) > ($3, $4)))
            AND ($5::uuid IS NULL OR user_id = $5)
          ORDER BY score DESC, joined_at, user_id
          LIMIT $6",
    )
    .bind(challenge)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(user)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Locks one ended challenge not yet finalised (skipping those another finaliser
/// holds): its id, title and goal.
pub async fn lock_ended(conn: &mut PgConnection) -> sqlx::Result<Option<(Uuid, String, f64)>> {
    sqlx::query_as(
        "SELECT id, title, goal FROM challenges
          WHERE finalised_at IS NULL AND end_at <= now()
          ORDER BY end_at, id LIMIT 1
          FOR UPDATE SKIP LOCKED",
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_finalised(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE challenges SET finalised_at = now(), updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
