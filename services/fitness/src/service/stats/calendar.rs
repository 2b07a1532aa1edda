//! Calendar days and weeks in a time zone: streaks and Monday-based weeks, DST-correct.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The calendar day `at` falls on in `zone`.
pub fn local_date(at: DateTime<Utc>, zone: Tz) -> NaiveDate {
    at.with_timezone(&zone).date_naive()
}

/// The Monday of the week `date` belongs to.
pub fn week_start(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// The first instant of `date` in `zone`: local midnight, or the first existing local
/// time when a DST gap swallows midnight.
pub fn day_start(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    for minutes in [0, 30, 60, 90, 120, 180] {
        let local = midnight + Duration::minutes(minutes);
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&midnight)
}

/// (current, longest) streak of consecutive days in `days`; the current one counts
/// only when its last day is `today` or yesterday.
pub fn streaks(days: &BTreeSet<NaiveDate>, today: NaiveDate) -> (i32, i32) {
    let mut longest = 0;
    let mut run = 0;
    let mut previous: Option<NaiveDate> = None;
    for day in days {
        run = match previous {
            Some(p) if *day - p == Duration::days(1) => run + 1,
            _ => 1,
        };
        longest = longest.max(run);
        previous = Some(*day);
    }
    let current = match previous {
        Some(last) if last >= today - Duration::days(1) => run,
        _ => 0,
    };
    (current, longest)
}

/// The days of `times` in `zone`.
pub fn days_of(times: impl IntoIterator<Item = DateTime<Utc>>, zone: Tz) -> BTreeSet<NaiveDate> {
    times.into_iter().map(|t| local_date(t, zone)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn streaks_count_consecutive_days_ending_today_or_yesterday() {
        let days: BTreeSet<_> = [
            date(2026, 1, 1),
            date(2026, 1, 2),
            date(2026, 1, 5),
            date(2026, 1, 6),
        ]
        .into_iter()
        .collect();
        assert_eq!(streaks(&days, date(2026, 1, 7)), (2, 2));
        assert_eq!(streaks(&days, date(2026, 1, 8)), (0, 2));
        assert_eq!(streaks(&BTreeSet::new(), date(2026, 1, 8)), (0, 0));
    }

    #[test]
    fn weeks_start_on_local_monday_midnight_across_dst() {
        let paris: Tz = chrono_tz::Europe::Paris;
        // 2026-03-29 is a Sunday; clocks go forward at 02:00 that night.
        assert_eq!(week_start(date(2026, 3, 29)), date(2026, 3, 23));
        assert_eq!(
            day_start(date(2026, 3, 23), paris).to_rfc3339(),
            "2026-03-22T23:00:00+00:00"
        );
        assert_eq!(
            day_start(date(2026, 3, 30), paris).to_rfc3339(),
            "2026-03-29T22:00:00+00:00"
        );
    }
}
