//! Money: exact amounts in integer minor units of a supported ISO 4217 currency.

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

/// A supported ISO 4217 currency ("EUR"): upper case, one of [`CURRENCIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: &'static str,
    exponent: u32,
}

impl Currency {
    pub fn parse(code: &str) -> Result<Self, String> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err("must be an upper-case ISO 4217 code".into());
        }
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, exponent)| Self { code, exponent })
            .ok_or_else(|| format!("currency {code} is not supported"))
    }

    pub const fn as_str(self) -> &'static str {
        self.code
    }

    /// Minor-unit exponent (JPY 0, USD 2, KWD 3).
    pub const fn exponent(self) -> u32 {
        self.exponent
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code)
    }
}

/// An exact, positive amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// A positive amount of at most [`MAX_MINOR`] in a supported currency.
    pub fn positive(minor: i64, currency: &str) -> Result<Self, String> {
        let currency = Currency::parse(currency)?;
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
    let (n, d) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    let q = n / d;
    let r = n % d;
    Some(if 2 * r.abs() >= d { q + n.signum() } else { q })
}

/// The prorated charge for moving from `old` to `new` price with `left_secs` of a
/// `period_secs` period remaining; zero or less means nothing to charge.
pub fn proration(old: i64, new: i64, left_secs: i64, period_secs: i64) -> Option<i64> {
    let diff = i128::from(new) - i128::from(old);
    let value = div_round(
        diff * i128::from(left_secs.max(0)),
        i128::from(period_secs.max(1)),
    )?;
    i64::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rules() {
        assert!(Money::positive(0, "USD").is_err());
        assert!(Money::positive(-1, "USD").is_err());
        assert!(Money::positive(i64::MAX, "USD").is_err());
        assert!(Money::positive(980, "JPY").is_ok());
        assert!(Money::positive(100, "usd").is_err());
        assert!(Money::positive(100, "XXX").is_err());
        assert_eq!(Currency::parse("JPY").map(Currency::exponent), Ok(0));
        assert_eq!(Currency::parse("KWD").map(Currency::exponent), Ok(3));
        assert_eq!(
            Currency::parse("XXX"),
            Err("currency XXX is not supported".into())
        );
        assert_eq!(
            Currency::parse("eur"),
            Err("must be an upper-case ISO 4217 code".into())
        );
    }

    #[test]
    fn proration_rounds_half_away_from_zero() {
        assert_eq!(proration(1000, 2000, 15, 30), Some(500));
        assert_eq!(proration(0, 3, 1, 2), Some(2), "1.5 rounds to 2");
        assert_eq!(proration(2000, 1000, 15, 30), Some(-500));
        assert_eq!(
            proration(0, MAX_MINOR, i64::MAX, 1),
            None,
            "overflow is refused, not wrapped"
        );
    }
}
