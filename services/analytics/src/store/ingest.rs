//! The writes of the rollup consumer, all inside the transaction in which the kit records
//! the event's id: additive hourly counters, distinct sets, the raw event, what the
//! events teach about users, follows and posts, and the consumer's progress.

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::time::hour_of;

/// Adds `n` to `metric` of `subject` in the hour holding `at`.
pub async fn bump(
    conn: &mut PgConnection,
    subject: &str,
    metric: &str,
    at: DateTime<Utc>,
    n: i64,
) -> sqlx::Result<()> {
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
pub async fn mark(
    conn: &mut PgConnection,
    set_key: &str,
    at: DateTime<Utc>,
    member: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO distinct_hourly (set_key, hour, member) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(set_key)
        .bind(hour_of(at))
        .bind(member)
        .execute(conn)
        .await?;
    Ok(())
}

/// One consumed event as `raw_events` keeps it (partitioned by month on `occurred_at`).
#[derive(Debug, Clone, Copy)]
pub struct RawEvent<'a> {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub topic: &'a str,
    pub kind: &'a str,
    pub actor_id: &'a str,
    pub aggregate_id: &'a str,
    /// The encoded `Event`.
    pub payload: &'a [u8],
}

pub async fn record_raw(conn: &mut PgConnection, event: RawEvent<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO raw_events (event_id, occurred_at, topic, kind, actor_id, aggregate_id, payload)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.event_id)
    .bind(event.occurred_at)
    .bind(event.topic)
    .bind(event.kind)
    .bind(event.actor_id)
    .bind(event.aggregate_id)
    .bind(event.payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the consumer's progress on `topic` to `occurred` (never backwards).
pub async fn advance_progress(
    conn: &mut PgConnection,
    topic: &str,
    occurred: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO consumer_progress (topic, last_event_time, last_process_time) VALUES ($1, $2, now())
         ON CONFLICT (topic) DO UPDATE SET last_event_time = GREATEST(consumer_progress.last_event_time, EXCLUDED.last_event_time),
                                           last_process_time = now()",
    )
    .bind(topic)
    .bind(occurred)
    .execute(conn)
    .await?;
    Ok(())
}

/// Remembers an account (admins' NOT_FOUND check of creator insights).
pub async fn record_user(
    conn: &mut PgConnection,
    user_id: &str,
    is_trainer: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO users (user_id, is_trainer, registered_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING")
        .bind(user_id)
        .bind(is_trainer)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn add_follow(
    conn: &mut PgConnection,
    follower: &str,
    followee: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(follower)
    .bind(followee)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove_follow(
    conn: &mut PgConnection,
    follower: &str,
    followee: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
        .bind(follower)
        .bind(followee)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the follows between two users in both directions; returns the followee of each
/// follow that existed.
pub async fn remove_follows_between(
    conn: &mut PgConnection,
    a: &str,
    b: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)
         RETURNING followee_id",
    )
    .bind(a)
    .bind(b)
    .fetch_all(conn)
    .await
}

/// Learns a post's author from a content event that names it; a known creation time is
/// kept when the event carries none.
pub async fn learn_post(
    conn: &mut PgConnection,
    post_id: &str,
    author: &str,
    created: Option<DateTime<Utc>>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO posts (post_id, author_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (post_id) DO UPDATE SET created_at = COALESCE(EXCLUDED.created_at, posts.created_at)",
    )
    .bind(post_id)
    .bind(author)
    .bind(created)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn mark_post_deleted(
    conn: &mut PgConnection,
    post_id: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE posts SET deleted_at = $2 WHERE post_id = $1")
        .bind(post_id)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a view of `target` by `viewer` at `at` starts a new view session (no counted
/// view within `session` either side); records it when it does.
pub async fn fresh_view(
    conn: &mut PgConnection,
    target: &str,
    viewer: &str,
    at: DateTime<Utc>,
    session: Duration,
) -> sqlx::Result<bool> {
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM counted_views WHERE target = $1 AND viewer_id = $2 AND viewed_at > $3 AND viewed_at < $4)",
    )
    .bind(target)
    .bind(viewer)
    .bind(at - session)
    .bind(at + session)
    .fetch_one(&mut *conn)
    .await?;
    if seen {
        return Ok(false);
    }
    sqlx::query("INSERT INTO counted_views (target, viewer_id, viewed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(target)
        .bind(viewer)
        .bind(at)
        .execute(conn)
        .await?;
    Ok(true)
}
