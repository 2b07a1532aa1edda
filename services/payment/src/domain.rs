//! Value types of the payment domain: money in integer minor units with ISO 4217
//! currencies, billing cycles and states, plan field rules and the card-number detector.
//! No tonic, no sqlx.

use chrono::{DateTime, Datelike, Months, Utc};

/// Largest amount accepted anywhere (10^12 minor units), far below i64::MAX so sums of
/// many amounts and prorations in i128 cannot overflow.
pub const MAX_MINOR: i64 = 1_000_000_000_000;

/// ISO 4217 codes we accept with their minor-unit exponent.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("BHD", 3),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("TND", 3),
    ("USD", 2),
    ("VND", 0),
    ("ZAR", 2),
];

/// Minor-unit exponent of a supported currency (JPY 0, USD 2, KWD 3).
pub fn currency_exponent(code: &str) -> Option<u32> {
    CURRENCIES.iter().find(|(c, _)| *c == code).map(|(_, e)| *e)
}

pub fn parse_currency(code: &str) -> Result<String, String> {
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("must be an upper-case ISO 4217 code".into());
    }
    if currency_exponent(code).is_none() {
        return Err(format!("currency {code} is not supported"));
    }
    Ok(code.to_string())
}

/// An exact, positive amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: String,
}

impl Money {
    /// A positive amount of at most [`MAX_MINOR`] in a supported currency.
    pub fn positive(minor: i64, currency: &str) -> Result<Self, String> {
        let currency = parse_currency(currency)?;
        if minor <= 0 {
            return Err("amount must be positive".into());
        }
        if minor > MAX_MINOR {
            return Err(format!("amount must be at most {MAX_MINOR} minor units"));
        }
        Ok(Self { minor, currency })
    }
}

/// Rounds `numerator / denominator` to the nearest integer, halves away from zero, in
/// i128 so intermediate products cannot overflow.
pub fn div_round(numerator: i128, denominator: i128) -> Option<i128> {
    if denominator == 0 {
        return None;
    }
    let (n, d) = if denominator < 0 { (-numerator, -denominator) } else { (numerator, denominator) };
    let q = n / d;
    let r = n % d;
    Some(if 2 * r.abs() >= d { q + n.signum() } else { q })
}

/// The prorated charge for moving from `old` to `new` price with `left_secs` of a
/// `period_secs` period remaining; zero or less means nothing to charge.
pub fn proration(old: i64, new: i64, left_secs: i64, period_secs: i64) -> Option<i64> {
    let diff = i128::from(new) - i128::from(old);
    let value = div_round(diff * i128::from(left_secs.max(0)), i128::from(period_secs.max(1)))?;
    i64::try_from(value).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    Monthly,
    Yearly,
}

impl Cycle {
    pub fn as_str(self) -> &'static str {
        match self {
            Cycle::Monthly => "MONTHLY",
            Cycle::Yearly => "YEARLY",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "MONTHLY" => Some(Cycle::Monthly),
            "YEARLY" => Some(Cycle::Yearly),
            _ => None,
        }
    }

    /// The end of a period starting at `start` (calendar months, clamped to month ends).
    pub fn period_end(self, start: DateTime<Utc>) -> DateTime<Utc> {
        let months = match self {
            Cycle::Monthly => 1,
            Cycle::Yearly => 12,
        };
        start.checked_add_months(Months::new(months)).unwrap_or(start)
    }

    /// The end of the period starting at `start`, on the billing day of `anchor`: the
    /// first anchor + k cycles after `start`, each counted from the anchor itself, so a
    /// subscription started on Jan 31 renews Feb 28, Mar 31, Apr 30 (not drifting to the
    /// 28th).
    pub fn next_period_end(self, anchor: DateTime<Utc>, start: DateTime<Utc>) -> DateTime<Utc> {
        let step: u32 = match self {
            Cycle::Monthly => 1,
            Cycle::Yearly => 12,
        };
        if anchor > start {
            return self.period_end(start);
        }
        let months_between = (start.year() - anchor.year()) * 12 + start.month() as i32 - anchor.month() as i32;
        let first = (months_between.max(0) as u32 / step).saturating_sub(1);
        (first..first + 4)
            .filter_map(|k| anchor.checked_add_months(Months::new((k + 1) * step)))
            .find(|end| *end > start)
            .unwrap_or_else(|| self.period_end(start))
    }
}

/// How long an INCOMPLETE subscription waits for its first charge to settle.
pub const INCOMPLETE_WINDOW_HOURS: i64 = 24;

pub mod status {
    pub const TRIALING: &str = "TRIALING";
    pub const ACTIVE: &str = "ACTIVE";
    pub const PAST_DUE: &str = "PAST_DUE";
    pub const CANCELED: &str = "CANCELED";
    pub const INCOMPLETE: &str = "INCOMPLETE";
    pub const EXPIRED: &str = "EXPIRED";

    /// States that grant the plan's tier.
    pub fn grants_tier(status: &str) -> bool {
        matches!(status, TRIALING | ACTIVE | PAST_DUE)
    }

    pub fn is_terminal(status: &str) -> bool {
        matches!(status, CANCELED | EXPIRED)
    }
}

/// Delays after the original due time at which a failed renewal is retried; after the
/// last one fails the subscription expires.
pub const RETRY_SCHEDULE_DAYS: &[i64] = &[1, 3, 7];

/// Validation of plan fields; each returns the message for its field.
pub fn plan_name(name: &str) -> Result<(), String> {
    let n = name.trim().chars().count();
    if n == 0 || name.chars().count() > 80 { Err("must be 1-80 characters".into()) } else { Ok(()) }
}

pub fn plan_description(d: &str) -> Result<(), String> {
    if d.chars().count() > 1000 { Err("must be at most 1000 characters".into()) } else { Ok(()) }
}

pub fn features(features: &[String]) -> Result<Vec<String>, String> {
    if features.len() > 50 {
        return Err("at most 50 features".into());
    }
    let mut out: Vec<String> = Vec::new();
    for f in features {
        let ok = (1..=64).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.');
        if !ok {
            return Err(format!("feature {f:?} must be 1-64 characters of [a-z0-9_.]"));
        }
        if out.contains(f) {
            return Err(format!("feature {f:?} is listed twice"));
        }
        out.push(f.clone());
    }
    Ok(out)
}

pub fn trial_days(days: i32) -> Result<(), String> {
    if (0..=90).contains(&days) { Ok(()) } else { Err("must be 0-90".into()) }
}

/// True when `input` contains what looks like a primary account number: a run of 12-19
/// digits (spaces and dashes between digits ignored) that passes the Luhn check. Used to
/// refuse card data before it is stored or logged anywhere.
pub fn looks_like_pan(input: &str) -> bool {
    let compact: Vec<u8> = input.bytes().filter(|b| *b != b' ' && *b != b'-').collect();
    let mut i = 0;
    while i < compact.len() {
        if !compact[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < compact.len() && compact[i].is_ascii_digit() {
            i += 1;
        }
        let run = &compact[start..i];
        // A run of card length is checked whole; a longer run may embed a number anywhere.
        if (12..=19).contains(&run.len()) && luhn(run) {
            return true;
        }
        if run.len() > 19 && (12..=19).any(|len| run.windows(len).any(luhn)) {
            return true;
        }
    }
    false
}

fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        use chrono::TimeZone;
        Utc.with_ymd_and_hms(y, m, d, 9, 30, 0).single().expect("valid date")
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
        assert_eq!(ends, vec![at(2026, 2, 28), at(2026, 3, 31), at(2026, 4, 30), at(2026, 5, 31), at(2026, 6, 30), at(2026, 7, 31)]);
        // A leap year's February, and a yearly plan anchored on Feb 29.
        assert_eq!(Cycle::Monthly.next_period_end(at(2028, 1, 30), at(2028, 1, 30)), at(2028, 2, 29));
        let leap = at(2028, 2, 29);
        assert_eq!(Cycle::Yearly.next_period_end(leap, leap), at(2029, 2, 28));
        assert_eq!(Cycle::Yearly.next_period_end(leap, at(2031, 2, 28)), at(2032, 2, 29));
        // A start that is off the anchor (a late retry) still ends on the anchor day.
        assert_eq!(Cycle::Monthly.next_period_end(anchor, at(2026, 3, 3)), at(2026, 3, 31));
    }

    #[test]
    fn pan_detection() {
        assert!(looks_like_pan("4242424242424242"));
        assert!(looks_like_pan("4242 4242 4242 4242"));
        assert!(looks_like_pan("4242-4242-4242-4242"));
        assert!(looks_like_pan("pm_4242424242424242"));
        assert!(looks_like_pan("378282246310005"), "amex");
        assert!(!looks_like_pan("tok_sandbox_visa"));
        assert!(!looks_like_pan("4242424242424241"), "fails Luhn");
        assert!(!looks_like_pan("12345678901"), "too short");
    }

    #[test]
    fn money_rules() {
        assert!(Money::positive(0, "USD").is_err());
        assert!(Money::positive(-1, "USD").is_err());
        assert!(Money::positive(i64::MAX, "USD").is_err());
        assert!(Money::positive(980, "JPY").is_ok());
        assert!(Money::positive(100, "usd").is_err());
        assert!(Money::positive(100, "XXX").is_err());
        assert_eq!(currency_exponent("JPY"), Some(0));
        assert_eq!(currency_exponent("KWD"), Some(3));
    }

    #[test]
    fn proration_rounds_half_away_from_zero() {
        assert_eq!(proration(1000, 2000, 15, 30), Some(500));
        assert_eq!(proration(0, 3, 1, 2), Some(2), "1.5 rounds to 2");
        assert_eq!(proration(2000, 1000, 15, 30), Some(-500));
        assert_eq!(proration(0, MAX_MINOR, i64::MAX, 1), None, "overflow is refused, not wrapped");
    }
}
