//! Consumer progress as the database knows it: per logical topic, the time of the last
//! event applied and when it was applied.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// When a topic's consumption last moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The newest event time applied from the topic.
    pub last_event: DateTime<Utc>,
    /// When that happened.
    pub last_process: DateTime<Utc>,
}

/// Progress of every topic the consumer has applied an event from, by logical topic.
pub async fn progress(pool: &PgPool) -> sqlx::Result<HashMap<String, Progress>> {
    let rows: Vec<(String, DateTime<Utc>, DateTime<Utc>)> =
        sqlx::query_as("SELECT topic, last_event_time, last_process_time FROM consumer_progress")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(topic, last_event, last_process)| {
            (
                topic,
                Progress {
                    last_event,
                    last_process,
                },
            )
        })
        .collect())
}
