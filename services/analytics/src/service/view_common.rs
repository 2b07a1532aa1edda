//! What the four views share: the validated time window of a request, reading metrics
//! out of the hourly rollups, engagement rates and the watermark they report.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tribe_kit::{ApiError, Violations};

use super::AnalyticsService;
use crate::domain::Metric;
use crate::store::views::{self as store, Series};
use crate::time::{Window, parse_window, timestamp, widen};

/// Shared request validation: the range and granularity, then the range limit.
pub(super) fn window(
    range: Option<&tribe_proto::r#type::v1::TimeRange>,
    granularity: i32,
    mut v: Violations,
    now: DateTime<Utc>,
) -> Result<Window, ApiError> {
    let parsed = parse_window(range, granularity, now, &mut v);
    v.finish()?;
    let Some((start, end, gran)) = parsed else {
        return Err(ApiError::invalid_field("time_range", "is invalid"));
    };
    widen(start, end, gran, now)
}

pub(super) fn get(map: &HashMap<String, i64>, metric: Metric) -> i64 {
    map.get(metric.as_str()).copied().unwrap_or(0)
}

pub(super) fn rate_bps(engagements: i64, views: i64) -> i32 {
    if views <= 0 {
        0
    } else {
        (engagements.saturating_mul(10_000) / views).min(i64::from(i32::MAX)) as i32
    }
}

pub(super) fn buckets_of(
    series: &Series,
    subject: &str,
    window: &Window,
) -> Vec<HashMap<String, i64>> {
    series
        .get(subject)
        .cloned()
        .unwrap_or_else(|| vec![HashMap::new(); window.len()])
}

impl AnalyticsService {
    /// From offsets and lag when known; until the first refresh, the newest event time
    /// processed.
    pub(super) async fn watermark(&self) -> Result<Option<prost_types::Timestamp>, ApiError> {
        if let Some(t) = self.watermark.get() {
            return Ok(Some(timestamp(t)));
        }
        Ok(store::newest_event_time(&self.pool).await?.map(timestamp))
    }
}
