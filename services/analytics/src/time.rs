//! UTC buckets: granularities, the request window widened to whole buckets, and the
//! conversions between protobuf timestamps and chrono.

use chrono::{DateTime, Datelike, Duration, DurationRound, TimeZone, Utc};
use tribe_kit::{ApiError, Violations};
use tribe_proto::r#type::v1::{Granularity, TimeRange};

/// Width of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gran {
    Hour,
    Day,
    Week,
}

impl Gran {
    #[allow(unreachable_patterns)]
    pub fn from_proto(value: i32) -> Option<Self> {
        match Granularity::try_from(value).ok()? {
            Granularity::Hour => Some(Self::Hour),
            Granularity::Day => Some(Self::Day),
            Granularity::Week => Some(Self::Week),
            // Unspecified, or a width added to the shared type after this build.
            _ => None,
        }
    }

    pub fn to_proto(self) -> Granularity {
        match self {
            Self::Hour => Granularity::Hour,
            Self::Day => Granularity::Day,
            Self::Week => Granularity::Week,
        }
    }

    pub fn step(self) -> Duration {
        match self {
            Self::Hour => Duration::hours(1),
            Self::Day => Duration::days(1),
            Self::Week => Duration::weeks(1),
        }
    }

    /// The `date_trunc` unit; PostgreSQL's weeks are ISO weeks (Monday), as ours.
    pub fn pg_unit(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
        }
    }

    /// Longest widened range a request may ask for.
    pub fn max_span(self) -> Duration {
        match self {
            Self::Hour => Duration::days(14),
            Self::Day => Duration::days(400),
            Self::Week => Duration::weeks(157),
        }
    }

    /// Start of the bucket holding `t`.
    pub fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let hour = hour_of(t);
        match self {
            Self::Hour => hour,
            Self::Day => day_of(t),
            Self::Week => day_of(t) - Duration::days(i64::from(t.weekday().num_days_from_monday())),
        }
        .min(hour)
    }

    /// Smallest bucket boundary at or after `t`.
    pub fn ceil(self, t: DateTime<Utc>) -> DateTime<Utc> {
        let floor = self.floor(t);
        if floor == t { t } else { floor + self.step() }
    }
}

/// The UTC hour holding `t` (rollup key).
pub fn hour_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::hours(1)).unwrap_or(t)
}

fn day_of(t: DateTime<Utc>) -> DateTime<Utc> {
    Utc.from_utc_datetime(&t.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
}

/// A validated series request: [start, end) on bucket boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub gran: Gran,
}

impl Window {
    /// Number of buckets.
    pub fn len(&self) -> usize {
        let step = self.gran.step().num_seconds();
        ((self.end - self.start).num_seconds() / step).max(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Start of every bucket, ascending.
    pub fn starts(&self) -> Vec<DateTime<Utc>> {
        (0..self.len())
            .map(|i| self.start + self.gran.step() * i as i32)
            .collect()
    }

    /// Index of the bucket starting at `bucket`, if inside.
    pub fn index(&self, bucket: DateTime<Utc>) -> Option<usize> {
        if bucket < self.start || bucket >= self.end {
            return None;
        }
        Some(((bucket - self.start).num_seconds() / self.gran.step().num_seconds()) as usize)
    }

    pub fn time_range(&self) -> TimeRange {
        TimeRange {
            start_time: Some(timestamp(self.start)),
            end_time: Some(timestamp(self.end)),
            ..Default::default()
        }
    }
}

/// Validates `time_range` + `granularity` into a window, recording violations; the
/// RANGE_TOO_LONG check runs afterwards (it has its own reason).
pub fn parse_window(
    range: Option<&TimeRange>,
    granularity: i32,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> Option<(DateTime<Utc>, DateTime<Utc>, Gran)> {
    let gran = Gran::from_proto(granularity);
    if gran.is_none() {
        v.add(
            "granularity",
            "is required (GRANULARITY_HOUR, GRANULARITY_DAY or GRANULARITY_WEEK)",
        );
    }
    let Some(range) = range else {
        v.add("time_range", "is required");
        return None;
    };
    let start = range.start_time.as_ref().and_then(datetime);
    let end = range.end_time.as_ref().and_then(datetime);
    match (start, end) {
        (None, _) => v.add("time_range.start_time", "is required"),
        (_, None) => v.add("time_range.end_time", "is required"),
        (Some(start), Some(end)) => {
            if end <= start {
                v.add("time_range.end_time", "must be after start_time");
            } else if start > now {
                v.add("time_range.start_time", "must not be in the future");
            } else {
                return gran.map(|gran| (start, end, gran));
            }
        }
    }
    None
}

/// Widens to whole buckets, caps the end at the end of the current bucket and enforces
/// the per-granularity limit.
pub fn widen(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    gran: Gran,
    now: DateTime<Utc>,
) -> Result<Window, ApiError> {
    let start = gran.floor(start);
    let end = gran.ceil(end).min(gran.floor(now) + gran.step());
    if end - start > gran.max_span() {
        let limit = match gran {
            Gran::Hour => "14 days at GRANULARITY_HOUR",
            Gran::Day => "400 days at GRANULARITY_DAY",
            Gran::Week => "157 weeks at GRANULARITY_WEEK",
        };
        return Err(ApiError::invalid_reason(
            "RANGE_TOO_LONG",
            "time_range",
            &format!("the widened range may span at most {limit}"),
        ));
    }
    Ok(Window { start, end, gran })
}

pub fn datetime(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    if !(0..1_000_000_000).contains(&ts.nanos) {
        return None;
    }
    Utc.timestamp_opt(ts.seconds, ts.nanos as u32).single()
}

pub fn timestamp(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn buckets_align_to_utc_hours_days_and_iso_weeks() {
        let t = at("2026-11-25T13:47:12Z"); // a Wednesday
        assert_eq!(Gran::Hour.floor(t), at("2026-11-25T13:00:00Z"));
        assert_eq!(Gran::Day.floor(t), at("2026-11-25T00:00:00Z"));
        assert_eq!(Gran::Week.floor(t), at("2026-11-23T00:00:00Z"));
        assert_eq!(Gran::Week.ceil(t), at("2026-11-30T00:00:00Z"));
        assert_eq!(
            Gran::Day.ceil(at("2026-11-25T00:00:00Z")),
            at("2026-11-25T00:00:00Z")
        );
    }

    #[test]
    fn windows_widen_cap_and_limit() {
        let now = at("2026-11-25T13:47:12Z");
        let w = widen(
            at("2026-11-20T05:10:00Z"),
            at("2026-12-30T00:00:00Z"),
            Gran::Day,
            now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (w.start, w.end),
            (at("2026-11-20T00:00:00Z"), at("2026-11-26T00:00:00Z"))
        );
        assert_eq!(w.len(), 6);
        assert_eq!(w.index(at("2026-11-25T00:00:00Z")), Some(5));
        assert!(widen(at("2026-11-01T00:00:00Z"), now, Gran::Hour, now).is_err());
        assert!(widen(at("2026-11-12T00:00:00Z"), now, Gran::Hour, now).is_ok());
    }
}
