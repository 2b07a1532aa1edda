//! Trending snapshots: time-decayed engagement over a sliding window, computed in SQL into
//! snapshots that the trending lists page through. Only PUBLIC, VISIBLE posts count.
//!
//! Post score = Σ weight · 2^(−age / half_life) over the window's engagements: 1 per like,
//! 3 per distinct commenter (first comment counts). Tag score adds 2 per new post, caps
//! each user at 5 undecayed points per tag, and needs 3 engaged users. Half-lives: HOUR
//! 15 min, DAY 6 h, WEEK 42 h.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tribe_proto::content::v1::TrendingWindow;
use uuid::Uuid;

/// Every window.
pub const WINDOWS: [TrendingWindow; 3] = [
    TrendingWindow::Hour,
    TrendingWindow::Day,
    TrendingWindow::Week,
];
/// How long superseded snapshots stay readable for open page tokens.
const SNAPSHOT_RETENTION_SECS: f64 = 30.0 * 60.0;

/// What a snapshot ranks (`trending_snapshots.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotKind {
    Posts,
    Tags,
}

impl SnapshotKind {
    /// The stored value.
    pub const fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Posts => "posts",
            SnapshotKind::Tags => "tags",
        }
    }
}

/// (window length, half-life) in seconds.
pub fn window_secs(window: TrendingWindow) -> (f64, f64) {
    match window {
        TrendingWindow::Hour => (3600.0, 900.0),
        TrendingWindow::Week => (7.0 * 86400.0, 42.0 * 3600.0),
        TrendingWindow::Day | TrendingWindow::Unspecified => (86400.0, 6.0 * 3600.0),
    }
}

/// The newest snapshot of `kind` for `window`.
pub async fn latest(
    pool: &PgPool,
    kind: SnapshotKind,
    window: TrendingWindow,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM trending_snapshots WHERE kind = $1 AND window_kind = $2 ORDER BY id DESC LIMIT 1")
        .bind(kind.as_str())
        .bind(window as i16)
        .fetch_optional(pool)
        .await
}

async fn new_snapshot(
    conn: &mut sqlx::PgConnection,
    kind: SnapshotKind,
    window: i16,
    now: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO trending_snapshots (kind, window_kind, computed_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(kind.as_str())
        .bind(window)
        .bind(now)
        .fetch_one(conn)
        .await
}

/// Computes new post and tag snapshots of `windows` as of `now`, and drops expired ones.
pub async fn recompute(
    pool: &PgPool,
    windows: &[TrendingWindow],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for &window in windows {
        let (length, half_life) = window_secs(window);
        let window = window as i16;
        let mut tx = pool.begin().await?;
        let posts = new_snapshot(&mut tx, SnapshotKind::Posts, window, now).await?;
        sqlx::query(
            "WITH eligible AS (
                 SELECT id FROM posts
                 WHERE visibility = 1 AND moderation = 1 AND created_at > $2 - make_interval(secs => $3) AND created_at <= $2),
             engagements AS (
                 SELECT l.post_id, l.created_at AS at, 1.0::float8 AS w
                 FROM post_likes l JOIN eligible e ON e.id = l.post_id
                 WHERE l.created_at > $2 - make_interval(secs => $3) AND l.created_at <= $2
                 UNION ALL
                 SELECT c.post_id, min(c.created_at), 3.0::float8
                 FROM comments c JOIN eligible e ON e.id = c.post_id
                 WHERE c.created_at > $2 - make_interval(secs => $3) AND c.created_at <= $2
                 GROUP BY c.post_id, c.author_id)
             INSERT INTO trending_posts (snapshot_id, post_id, score)
             SELECT $1, post_id, sum(w * power(2.0, -extract(epoch FROM ($2 - at))::float8 / $4))
             FROM engagements GROUP BY post_id",
        )
        .bind(posts)
        .bind(now)
        .bind(length)
        .bind(half_life)
        .execute(&mut *tx)
        .await?;

        let tags = new_snapshot(&mut tx, SnapshotKind::Tags, window, now).await?;
        sqlx::query(
            "WITH eligible AS (
                 SELECT id, author_id, tags, created_at FROM posts
                 WHERE visibility = 1 AND moderation = 1 AND cardinality(tags) > 0
                   AND created_at > $2 - make_interval(secs => $3) AND created_at <= $2),
             engagements AS (
                 SELECT t.tag, e.author_id AS user_id, e.created_at AS at, 2.0::float8 AS w
                 FROM eligible e CROSS JOIN LATERAL unnest(e.tags) AS t(tag)
                 UNION ALL
                 SELECT t.tag, c.author_id, min(c.created_at), 3.0::float8
                 FROM comments c JOIN eligible e ON e.id = c.post_id CROSS JOIN LATERAL unnest(e.tags) AS t(tag)
                 WHERE c.created_at > $2 - make_interval(secs => $3) AND c.created_at <= $2
                 GROUP BY t.tag, c.post_id, c.author_id
                 UNION ALL
                 SELECT t.tag, l.user_id, l.created_at, 1.0::float8
                 FROM post_likes l JOIN eligible e ON e.id = l.post_id CROSS JOIN LATERAL unnest(e.tags) AS t(tag)
                 WHERE l.created_at > $2 - make_interval(secs => $3) AND l.created_at <= $2),
             per_user AS (
                 SELECT tag, user_id, sum(w) AS raw,
                        sum(w * power(2.0, -extract(epoch FROM ($2 - at))::float8 / $4)) AS decayed
                 FROM engagements GROUP BY tag, user_id)
             INSERT INTO trending_tags (snapshot_id, tag, score, post_count, engaged_user_count)
             SELECT $1, u.tag, sum(u.decayed * least(1.0, 5.0 / u.raw)), 
                    (SELECT count(*) FROM eligible e WHERE u.tag = ANY(e.tags)), count(*)
             FROM per_user u GROUP BY u.tag HAVING count(*) >= 3",
        )
        .bind(tags)
        .bind(now)
        .bind(length)
        .bind(half_life)
        .execute(&mut *tx)
        .await?;
        // Superseded snapshots expire; the newest of each kind and window always stays.
        sqlx::query(
            "DELETE FROM trending_snapshots s WHERE s.window_kind = $1 AND s.computed_at < $2 - make_interval(secs => $3)
               AND s.id <> (SELECT max(id) FROM trending_snapshots x WHERE x.kind = s.kind AND x.window_kind = s.window_kind)",
        )
        .bind(window)
        .bind(now)
        .bind(SNAPSHOT_RETENTION_SECS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Whether snapshot `id` still exists (a page token pins one).
pub async fn exists(pool: &PgPool, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM trending_snapshots WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// Up to `limit` (post id, score) of post snapshot `snapshot` after the keyset position
/// `(score, id)`, best first.
pub async fn posts(
    pool: &PgPool,
    snapshot: i64,
    after: (f64, Uuid),
    limit: i64,
) -> sqlx::Result<Vec<(Uuid, f64)>> {
    sqlx::query_as(
        "SELECT post_id, score FROM trending_posts WHERE snapshot_id = $1 AND (score < $2 OR (score = $2 AND post_id < $3))
         ORDER BY score DESC, post_id DESC LIMIT $4",
    )
    .bind(snapshot)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// One row of a tag snapshot.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagRow {
    pub tag: String,
    pub score: f64,
    pub post_count: i64,
    pub engaged_user_count: i64,
}

/// Up to `limit` tags of tag snapshot `snapshot` after the keyset position `(score, tag)`,
/// best first.
pub async fn tags(
    pool: &PgPool,
    snapshot: i64,
    after: (f64, &str),
    limit: i64,
) -> sqlx::Result<Vec<TagRow>> {
    sqlx::query_as(
        "SELECT tag, score, post_count, engaged_user_count FROM trending_tags
         WHERE snapshot_id = $1 AND (score < $2 OR (score = $2 AND tag < $3))
         ORDER BY score DESC, tag DESC LIMIT $4",
    )
    .bind(snapshot)
    .bind(after.0)
    .bind(after.1)
    .bind(limit)
    .fetch_all(pool)
    .await
}
