//! Subscriptions: billing cycles and their period arithmetic, the states a subscription
//! moves through (see the README's diagram) and the billing schedule.

use chrono::{DateTime, Datelike, Months, Utc};

text_enum! {
    pub enum Cycle {
        Monthly = "MONTHLY",
        Yearly = "YEARLY",
    }
}

impl Cycle {
    fn months(self) -> u32 {
        match self {
            Cycle::Monthly => 1,
            Cycle::Yearly => 12,
        }
    }

    /// The end of a period starting at `start` (calendar months, clamped to month ends).
    pub fn period_end(self, start: DateTime<Utc>) -> DateTime<Utc> {
        start
            .checked_add_months(Months::new(self.months()))
            .unwrap_or(start)
    }

    /// The end of the period starting at `start`, on the billing day of `anchor`: the
    /// first anchor + k cycles after `start`, each counted from the anchor itself, so a
    /// subscription started on Jan 31 renews Feb 28, Mar 31, Apr 30 (not drifting to the
    /// 28th).
    pub fn next_period_end(self, anchor: DateTime<Utc>, start: DateTime<Utc>) -> DateTime<Utc> {
        let step = self.months();
        if anchor > start {
            return self.period_end(start);
        }
        let months_between =
            (start.year() - anchor.year()) * 12 + start.month() as i32 - anchor.month() as i32;
        let first = (months_between.max(0) as u32 / step).saturating_sub(1);
        (first..first + 4)
            .filter_map(|k| anchor.checked_add_months(Months::new((k + 1) * step)))
            .find(|end| *end > start)
            .unwrap_or_else(|| self.period_end(start))
    }
}

text_enum! {
    pub enum SubscriptionStatus {
        Trialing = "TRIALING",
        Active = "ACTIVE",
        /// A renewal failed; retried on [`RETRY_SCHEDULE_DAYS`], the tier is kept meanwhile.
        PastDue = "PAST_DUE",
        Canceled = "CANCELED",
        /// The first charge is pending at the provider (3-D Secure): nothing granted yet.
        Incomplete = "INCOMPLETE",
        Expired = "EXPIRED",
    }
}

impl SubscriptionStatus {
    /// The states of a running subscription: a user has at most one (the partial unique
    /// index `subscriptions_one_live_idx` lists the same values).
    pub const LIVE: [SubscriptionStatus; 4] = [
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Incomplete,
    ];

    /// States that grant the plan's tier.
    pub fn grants_tier(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Canceled | SubscriptionStatus::Expired
        )
    }
}

/// How long an INCOMPLETE subscription waits for its first charge to settle.
pub const INCOMPLETE_WINDOW_HOURS: i64 = 24;

/// Delays after the original due time at which a failed renewal is retried; after the
/// last one fails the subscription expires.
pub const RETRY_SCHEDULE_DAYS: &[i64] = &[1, 3, 7];

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn monthly_periods_keep_the_anchor_day_through_short_months() {
        let anchor = at(2026, 1, 31);
        let mut start = anchor;
        let mut ends = Vec::new();
        for _ in 0..6 {
            let end = Cycle::Monthly.next_period_end(anchor, start);
            ends.push(end);
            start = end;
        }
        assert_eq!(
            ends,
            vec![
                at(2026, 2, 28),
                at(2026, 3, 31),
                at(2026, 4, 30),
                at(2026, 5, 31),
                at(2026, 6, 30),
                at(2026, 7, 31)
            ]
        );
        // A leap year's February, and a yearly plan anchored on Feb 29.
        assert_eq!(
            Cycle::Monthly.next_period_end(at(2028, 1, 30), at(2028, 1, 30)),
            at(2028, 2, 29)
        );
        let leap = at(2028, 2, 29);
        assert_eq!(Cycle::Yearly.next_period_end(leap, leap), at(2029, 2, 28));
        assert_eq!(
            Cycle::Yearly.next_period_end(leap, at(2031, 2, 28)),
            at(2032, 2, 29)
        );
        // A start that is off the anchor (a late retry) still ends on the anchor day.
        assert_eq!(
            Cycle::Monthly.next_period_end(anchor, at(2026, 3, 3)),
            at(2026, 3, 31)
        );
    }

    #[test]
    fn statuses_round_trip_their_stored_values() {
        for s in SubscriptionStatus::ALL {
            assert_eq!(SubscriptionStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(SubscriptionStatus::PastDue.as_str(), "PAST_DUE");
        assert_eq!(
            SubscriptionStatus::parse("active"),
            None,
            "stored values are upper case"
        );
        assert!(SubscriptionStatus::LIVE.iter().all(|s| !s.is_terminal()));
        assert!(!SubscriptionStatus::Incomplete.grants_tier());
    }
}
