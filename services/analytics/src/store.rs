//! Rollup storage: additive hourly counters, keyed distinct sets, and the bucketed reads
//! the views are built from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::time::{Window, hour_of};

/// Adds `n` to `metric` of `subject` in the hour holding `at`.
pub async fn bump(conn: &mut PgConnection, subject: &str, metric: &str, at: DateTime<Utc>, n: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO rollup_hourly (subject, metric, hour, value) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject, metric, hour) DO UPDATE SET value = rollup_hourly.value + EXCLUDED.value",
    )
    .bind(subject)
    .bind(metric)
    .bind(hour_of(at))
    .bind(n)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records `member` in the distinct set `set_key` for the hour holding `at`.
pub async fn mark(conn: &mut PgConnection, set_key: &str, at: DateTime<Utc>, member: &str) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO distinct_hourly (set_key, hour, member) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(set_key)
        .bind(hour_of(at))
        .bind(member)
        .execute(conn)
        .await?;
    Ok(())
}

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
    let mut out: Series = subjects.iter().map(|s| (s.clone(), vec![HashMap::new(); window.len()])).collect();
    for (subject, metric, bucket, value) in rows {
        if let (Some(buckets), Some(i)) = (out.get_mut(&subject), window.index(bucket)) {
            buckets[i].insert(metric, value);
        }
    }
    Ok(out)
}

/// Exact distinct counts of one set: one per bucket of `window`, and over the whole
/// window (not the sum of the buckets).
pub async fn distinct(pool: &PgPool, set_key: &str, window: &Window) -> sqlx::Result<(Vec<i64>, i64)> {
    let mut all = distinct_many(pool, &[set_key.to_string()], window).await?;
    Ok(all.remove(set_key).unwrap_or_else(|| (vec![0; window.len()], 0)))
}

/// [`distinct`] for several sets in two queries; every requested set is present.
pub async fn distinct_many(pool: &PgPool, set_keys: &[String], window: &Window) -> sqlx::Result<HashMap<String, (Vec<i64>, i64)>> {
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
    let mut out: HashMap<String, (Vec<i64>, i64)> = set_keys.iter().map(|k| (k.clone(), (vec![0; window.len()], 0))).collect();
    for (key, bucket, n) in rows {
        if let (Some(entry), Some(i)) = (out.get_mut(&key), window.index(bucket)) {
            entry.0[i] = n;
        }
    }
    let totals: Vec<(String, i64)> = sqlx::query_as(
        "SELECT set_key, count(DISTINCT member) FROM distinct_hourly
         WHERE set_key = ANY($1) AND hour >= $2 AND hour < $3 GROUP BY 1",
    )
    .bind(set_keys)
    .bind(window.start)
    .bind(window.end)
    .fetch_all(pool)
    .await?;
    for (key, n) in totals {
        if let Some(entry) = out.get_mut(&key) {
            entry.1 = n;
        }
    }
    Ok(out)
}

/// The author of a post, if content events told us.
pub async fn post_author(conn: &mut PgConnection, post_id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT author_id FROM posts WHERE post_id = $1").bind(post_id).fetch_optional(conn).await
}

/// Authors of the given posts (missing ones are absent).
pub async fn post_authors(pool: &PgPool, post_ids: &[String]) -> sqlx::Result<HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT post_id, author_id FROM posts WHERE post_id = ANY($1)").bind(post_ids).fetch_all(pool).await?;
    Ok(rows.into_iter().collect())
}

/// Event time up to which the consumer has caught up on its most recent topic; the views
/// report it as their watermark.
pub async fn watermark(pool: &PgPool) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT max(last_event_time) FROM consumer_progress").fetch_one(pool).await
}

/// Records a post's author learned outside the event stream (the content fallback); a
/// row written by content events is left alone.
pub async fn remember_post(pool: &PgPool, post_id: &str, author: &str, created: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO posts (post_id, author_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (post_id) DO NOTHING")
        .bind(post_id)
        .bind(author)
        .bind(created)
        .execute(pool)
        .await?;
    Ok(())
}
