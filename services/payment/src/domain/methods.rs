//! Payment-method facts: which provider holds a method, what kind it is, the client
//! token it is attached with, and the detector that keeps card numbers out.

text_enum! {
    /// The provider that holds a method and makes its charges.
    pub enum Provider {
        Stripe = "STRIPE",
        Paypal = "PAYPAL",
        /// The in-process sandbox (`PAYMENT_PROVIDER_TEST`).
        Test = "TEST",
    }
}

text_enum! {
    pub enum MethodKind {
        Card = "CARD",
        Wallet = "WALLET",
        BankAccount = "BANK_ACCOUNT",
    }
}

/// A client SDK's one-time token for a payment method: 1-255 characters and nothing
/// that looks like a card number. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderToken(String);

/// Why a provider token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderTokenError {
    /// It contains what looks like a card number: refused before it is stored, hashed or
    /// logged anywhere.
    CardNumber,
    Length,
}

impl std::fmt::Display for ProviderTokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ProviderTokenError::CardNumber => {
                "looks like a card number; send the provider's token, never card data"
            }
            ProviderTokenError::Length => "must be 1-255 characters",
        })
    }
}

impl ProviderToken {
    pub fn parse(raw: &str) -> Result<Self, ProviderTokenError> {
        if looks_like_pan(raw) {
            return Err(ProviderTokenError::CardNumber);
        }
        if raw.is_empty() || raw.len() > 255 {
            return Err(ProviderTokenError::Length);
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ProviderToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderToken(<redacted>)")
    }
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
    fn provider_tokens() {
        assert_eq!(
            ProviderToken::parse("4242 4242 4242 4242"),
            Err(ProviderTokenError::CardNumber)
        );
        assert_eq!(ProviderToken::parse(""), Err(ProviderTokenError::Length));
        assert_eq!(
            ProviderToken::parse(&"t".repeat(256)),
            Err(ProviderTokenError::Length)
        );
        let token = ProviderToken::parse("tok_sandbox_visa").unwrap();
        assert_eq!(token.expose(), "tok_sandbox_visa");
        assert!(!format!("{token:?}").contains("visa"), "never printed");
    }
}
