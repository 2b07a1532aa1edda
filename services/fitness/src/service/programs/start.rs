//! `start_date` of EnrollInProgram and AssignProgram: a calendar date in the enrolling
//! user's time zone, from today up to 90 days ahead; day 1 begins at its local 00:00.

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use tribe_kit::Violations;

/// How far ahead a program may be scheduled to start.
pub(crate) const MAX_DAYS_AHEAD: u64 = 90;

const FIELD: &str = "start_date";

/// The date of a non-empty `start_date` ("YYYY-MM-DD"); a malformed one is recorded.
pub(crate) fn parse(v: &mut Violations, raw: &str) -> Option<NaiveDate> {
    if raw.is_empty() {
        return None;
    }
    let date = (raw.len() == 10)
        .then(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok())
        .flatten();
    if date.is_none() {
        v.add(FIELD, "must be a calendar date YYYY-MM-DD");
    }
    date
}

/// 00:00 of `date` in `zone` when it lies from today (in `zone` at `now`) to 90 days
/// ahead; outside that window the violation is recorded and `None` returned.
pub(crate) fn start_instant(
    v: &mut Violations,
    date: NaiveDate,
    zone: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = now.with_timezone(&zone).date_naive();
    if date < today {
        v.add(FIELD, "must not be before today");
        return None;
    }
    if today
        .checked_add_days(Days::new(MAX_DAYS_AHEAD))
        .is_some_and(|last| date > last)
    {
        v.add(FIELD, "must be at most 90 days ahead");
        return None;
    }
    Some(local_midnight(date, zone))
}

/// The first instant of `date` in `zone`: 00:00, or the end of a DST gap swallowing it.
fn local_midnight(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..=3)
        .find_map(|hour| {
            let local = midnight + chrono::Duration::hours(hour);
            zone.from_local_datetime(&local).earliest()
        })
        .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, zone: Tz, now: DateTime<Utc>) -> (Option<DateTime<Utc>>, bool) {
        let mut v = Violations::new();
        let at = parse(&mut v, raw).and_then(|d| start_instant(&mut v, d, zone, now));
        (at, v.finish().is_err())
    }

    #[test]
    fn dates_from_today_to_ninety_days_ahead_start_at_local_midnight() {
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 20, 0, 0).unwrap();
        let utc = |y, m, d, h| Some(Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap());
        assert_eq!(
            check("2026-03-01", Tz::UTC, now),
            (utc(2026, 3, 1, 0), false)
        );
        assert_eq!(
            check("2026-05-30", Tz::UTC, now),
            (utc(2026, 5, 30, 0), false)
        );
        assert_eq!(check("2026-05-31", Tz::UTC, now), (None, true));
        assert_eq!(check("2026-02-28", Tz::UTC, now), (None, true));
        // In Tokyo it is already 2 March: 1 March is past, 2 March starts at 15:00 UTC.
        let tokyo = chrono_tz::Asia::Tokyo;
        assert_eq!(check("2026-03-01", tokyo, now), (None, true));
        assert_eq!(
            check("2026-03-02", tokyo, now),
            (utc(2026, 3, 1, 15), false)
        );
        for bad in [
            "2026-3-01",
            "01-03-2026",
            "2026-02-30",
            "tomorrow",
            " 2026-03-01",
        ] {
            assert_eq!(check(bad, Tz::UTC, now), (None, true), "{bad}");
        }
        assert_eq!(check("", Tz::UTC, now), (None, false));
    }

    #[test]
    fn a_midnight_lost_to_daylight_saving_starts_at_the_first_local_instant() {
        // Santiago skipped 00:00-01:00 on 2022-09-11.
        let zone = chrono_tz::America::Santiago;
        let date = NaiveDate::from_ymd_opt(2022, 9, 11).unwrap();
        let start = local_midnight(date, zone).with_timezone(&zone);
        assert_eq!(start.date_naive(), date);
        assert_eq!(start.time(), NaiveTime::from_hms_opt(1, 0, 0).unwrap());
    }
}
