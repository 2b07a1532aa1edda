//! The reads the views are built from: hourly counters and distinct sets summed into the
//! buckets of a window, and the facts behind creator insights.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::subject;
use crate::time::Window;

/// Per bucket of `window`, metric -> value, for each of `subjects`.
pub type Series = HashMap<String, Vec<HashMap<String, i64>>>;

/// Sums the hourly counters of `subjects` into the buckets of `window`.
pub async fn series(pool: &PgPool, subjects: &[String], window: &Window) -> sqlx::Result<Series> {
    let rows: Vec<(String, String, DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT subject, metric, date_trunc($4, hour, 'UTC') AS bucket, sum(value)::bigint
         FROM rollup_hourly WHERE subject = ANY($1) AND hour >= $2 AND hour < $3
         GROUP BY 1, 2, 3",
    )
    .bind(subjects)
    .bind(window.start)
    .bind(window.end)
    .bind(window.gran.pg_unit())
    .fetch_all(pool)
    .await?;
    let mut out: Series = subjects
        .iter()
        .map(|s| (s.clone(), vec![HashMap::new(); window.len()]))
        .collect();
    for (subject, metric, bucket, value) in rows {
        if let (Some(buckets), Some(i)) = (out.get_mut(&subject), window.index(bucket)) {
            buckets[i].insert(metric, value);
        }
    }
    Ok(out)
}

/// Exact distinct counts of one set: one per bucket of `window`, and over the whole
/// window (not the sum of the buckets).
pub async fn distinct(
    pool: &PgPool,
    set_key: &str,
    window: &Window,
) -> sqlx::Result<(Vec<i64>, i64)> {
    let mut all = distinct_many(pool, &[set_key.to_string()], window).await?;
    Ok(all
        .remove(set_key)
        .unwrap_or_else(|| (vec![0; window.len()], 0)))
}

/// [`distinct`] for several sets in two queries; every requested set is present.
pub async fn distinct_many(
    pool: &PgPool,
    set_keys: &[String],
    window: &Window,
) -> sqlx::Result<HashMap<String, (Vec<i64>, i64)>> {
    let rows: Vec<(String, DateTime<Utc>, i64)> = sqlx::query_as(
        "SELECT set_key, date_trunc($4, hour, 'UTC') AS bucket, count(DISTINCT member)
         FROM distinct_hourly WHERE set_key = ANY($1) AND hour >= $2 AND hour < $3 GROUP BY 1, 2",
    )
    .bind(set_keys)
    .bind(window.start)
    .bind(window.end)
    .bind(window.gran.pg_unit())
    .fetch_all(pool)
    .await?;
    let mut out: HashMap<String, (Vec<i64>, i64)> = set_keys
        .iter()
        .map(|k| (k.clone(), (vec![0; window.len()], 0)))
        .collect();
    for (key, bucket, n) in rows {
        if let (Some(entry), Some(i)) = (out.get_mut(&key), window.index(bucket)) {
            entry.0[i] = n;
        }
    }
    for (key, n) in distinct_totals(pool, set_keys, window).await? {
        if let Some(entry) = out.get_mut(&key) {
            entry.1 = n;
        }
    }
    Ok(out)
}

/// Distinct members of each set over the whole window; sets without members are absent.
pub async fn distinct_totals(
    pool: &PgPool,
    set_keys: &[String],
    window: &Window,
) -> sqlx::Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT set_key, count(DISTINCT member) FROM distinct_hourly
         WHERE set_key = ANY($1) AND hour >= $2 AND hour < $3 GROUP BY 1",
    )
    .bind(set_keys)
    .bind(window.start)
    .bind(window.end)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Whether we know `user_id` as an account, an author or a creator with any metric.
pub async fn known_creator(pool: &PgPool, user_id: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE user_id = $1)
             OR EXISTS (SELECT 1 FROM posts WHERE author_id = $1)
             OR EXISTS (SELECT 1 FROM rollup_hourly WHERE subject = $2)",
    )
    .bind(user_id)
    .bind(subject::creator(user_id))
    .fetch_one(pool)
    .await
}

/// One metric of one of an author's posts over a window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostMetricRow {
    pub post_id: String,
    pub created_at: Option<DateTime<Utc>>,
    pub metric: String,
    pub value: i64,
}

/// The metric sums of every post by `author` with any counter in `window`.
pub async fn author_post_metrics(
    pool: &PgPool,
    author: &str,
    window: &Window,
) -> sqlx::Result<Vec<PostMetricRow>> {
    sqlx::query_as(
        "SELECT p.post_id, p.created_at, r.metric, sum(r.value)::bigint AS value
         FROM posts p JOIN rollup_hourly r ON r.subject = 'post:' || p.post_id
         WHERE p.author_id = $1 AND r.hour >= $2 AND r.hour < $3
         GROUP BY 1, 2, 3",
    )
    .bind(author)
    .bind(window.start)
    .bind(window.end)
    .fetch_all(pool)
    .await
}

/// Event time up to which the consumer has caught up on its most recent topic; the views
/// report it as their watermark until the first refresh from the broker.
pub async fn newest_event_time(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT max(last_event_time) FROM consumer_progress")
        .fetch_one(pool)
        .await
}
