//! Trending posts and tags: time-decayed engagement over a sliding window, written into
//! snapshots that list RPCs page through. Only PUBLIC, VISIBLE posts count.
//!
//! Post score = Σ weight · 2^(−age / half_life) over the window's engagements: 1 per like,
//! 3 per distinct commenter (first comment counts). Tag score adds 2 per new post, caps
//! each user at 5 undecayed points per tag, and needs 3 engaged users. Half-lives: HOUR
//! 15 min, DAY 6 h, WEEK 42 h.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tribe_proto::content::v1::TrendingWindow;

/// Every window.
pub const WINDOWS: [i16; 3] = [TrendingWindow::Hour as i16, TrendingWindow::Day as i16, TrendingWindow::Week as i16];
/// How long superseded snapshots stay readable for open page tokens.
const SNAPSHOT_RETENTION_SECS: f64 = 30.0 * 60.0;

/// (window length, half-life) in seconds.
pub fn window_secs(window: i16) -> (f64, f64) {
    match window {
        w if w == TrendingWindow::Hour as i16 => (3600.0, 900.0),
        w if w == TrendingWindow::Week as i16 => (7.0 * 86400.0, 42.0 * 3600.0),
        _ => (86400.0, 6.0 * 3600.0),
    }
}

/// The newest snapshot of `kind` ("posts" or "tags") for `window`.
pub async fn latest(pool: &PgPool, kind: &str, window: i16) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM trending_snapshots WHERE kind = $1 AND window_kind = $2 ORDER BY id DESC LIMIT 1")
        .bind(kind)
        .bind(window)
        .fetch_optional(pool)
        .await
}

/// Computes new post and tag snapshots of `windows` as of `now`, and drops expired ones.
pub async fn recompute(pool: &PgPool, windows: &[i16], now: DateTime<Utc>) -> anyhow::Result<()> {
    for &window in windows {
        let (length, half_life) = window_secs(window);
        let mut tx = pool.begin().await?;
        let posts: i64 =
            sqlx::query_scalar("INSERT INTO trending_snapshots (kind, window_kind, computed_at) VALUES ('posts', $1, $2) RETURNING id")
                .bind(window)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
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

        let tags: i64 =
            sqlx::query_scalar("INSERT INTO trending_snapshots (kind, window_kind, computed_at) VALUES ('tags', $1, $2) RETURNING id")
                .bind(window)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
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

/// Recomputes every `interval` (HOUR each tick, DAY and WEEK every fifth) until `stop`.
pub async fn run(pool: PgPool, interval: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    let mut tick: u64 = 0;
    loop {
        let windows: &[i16] = if tick.is_multiple_of(5) { &WINDOWS } else { &WINDOWS[..1] };
        if let Err(err) = recompute(&pool, windows, Utc::now()).await {
            tracing::warn!(error = format!("{err:#}"), "trending recomputation failed");
        }
        tick += 1;
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
