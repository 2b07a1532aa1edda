//! Monthly partitions of `raw_events`: created ahead of time and dropped after the
//! retention period. Rollups are not partitioned and are kept.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use sqlx::PgPool;

/// Months before the current one that get a partition (late events land there).
const MONTHS_BEHIND: i32 = 1;
/// Months after the current one prepared in advance.
const MONTHS_AHEAD: i32 = 2;

fn month_start(year: i32, month0: i32) -> Option<NaiveDate> {
    let total = year * 12 + month0;
    NaiveDate::from_ymd_opt(total.div_euclid(12), (total.rem_euclid(12) + 1) as u32, 1)
}

fn partition_name(start: NaiveDate) -> String {
    format!("raw_events_p{:04}{:02}", start.year(), start.month())
}

/// Creates the partitions around `now` that do not exist yet. A partition whose range
/// already has rows in the default partition cannot be created; that is logged and the
/// rows stay in the default partition.
pub async fn prepare(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let (year, month0) = (now.year(), now.month0() as i32);
    for offset in -MONTHS_BEHIND..=MONTHS_AHEAD {
        let (Some(from), Some(to)) = (
            month_start(year, month0 + offset),
            month_start(year, month0 + offset + 1),
        ) else {
            continue;
        };
        let name = partition_name(from);
        let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
            .bind(&name)
            .fetch_one(pool)
            .await?;
        if exists {
            continue;
        }
        let ddl = format!(
            "CREATE TABLE IF NOT EXISTS {name} PARTITION OF raw_events FOR VALUES FROM ('{from}T00:00:00Z') TO ('{to}T00:00:00Z')"
        );
        if let Err(err) = sqlx::query(&ddl).execute(pool).await {
            tracing::warn!(partition = %name, error = %err, "could not create raw event partition");
        }
    }
    Ok(())
}

/// Drops monthly partitions that ended more than `retention` before `now`.
pub async fn expire(
    pool: &PgPool,
    now: DateTime<Utc>,
    retention: Duration,
) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'raw_events'::regclass AND c.relname LIKE 'raw\\_events\\_p%'",
    )
    .fetch_all(pool)
    .await?;
    let cutoff = now - chrono::Duration::from_std(retention)?;
    let mut dropped = Vec::new();
    for name in names {
        let Some(digits) = name
            .strip_prefix("raw_events_p")
            .filter(|d| d.len() == 6 && d.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let (year, month): (i32, i32) = (digits[..4].parse()?, digits[4..].parse()?);
        let Some(end) = month_start(year, month) else {
            continue;
        };
        let end = Utc.from_utc_datetime(&end.and_hms_opt(0, 0, 0).unwrap_or_default());
        if end < cutoff {
            sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                .execute(pool)
                .await?;
            tracing::info!(partition = %name, "dropped expired raw event partition");
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// Keeps partitions prepared and expired (now, then hourly until `shutdown`) and purges
/// TrackEvents intake keys and view sessions past the acceptance window.
pub async fn maintain(
    pool: PgPool,
    retention: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let now = Utc::now();
        if let Err(err) = prepare(&pool, now).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "raw event partition maintenance failed"
            );
        }
        if let Err(err) = expire(&pool, now, retention).await {
            tracing::warn!(error = format!("{err:#}"), "raw event retention failed");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(Duration::from_secs(3600)) => {}
        }
        // Intake keys and view sessions only matter within the 7-day acceptance window
        // (plus a day); purged after the first hour, never while a fresh process replays.
        for purge in [
            "DELETE FROM tracked_events WHERE accepted_at < now() - interval '8 days'",
            "DELETE FROM counted_views WHERE viewed_at < now() - interval '8 days'",
        ] {
            if let Err(err) = sqlx::query(purge).execute(&pool).await {
                tracing::warn!(error = %err, "analytics purge failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_roll_over_years() {
        assert_eq!(month_start(2026, 12), NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(month_start(2026, -1), NaiveDate::from_ymd_opt(2025, 12, 1));
        assert_eq!(
            partition_name(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default()),
            "raw_events_p202603"
        );
    }
}
