//! The seam to payment service providers, and the deterministic sandbox used in
//! development and tests.
//!
//! What a production adapter (Stripe, PayPal) must do behind [`PaymentProvider`]:
//! - `attach`: exchange the client SDK's token for a reusable provider reference and
//!   return display facts only (brand, last four, expiry); map "token invalid or already
//!   used" to [`ProviderError::Rejected`].
//! - `charge` / `refund`: send `idempotency_key` as the provider's idempotency key
//!   (Stripe `Idempotency-Key`, PayPal `PayPal-Request-Id`), so the same key always yields
//!   the same charge or refund, never a second one; map declines to
//!   [`ChargeOutcome::Declined`] with a stable lower-case code, and transport errors or
//!   5xx to [`ProviderError::Unavailable`] (the service retries with the same key).
//! - `charge` with `off_session` set (renewals: the customer is not there) must not wait
//!   for customer authentication: a charge that would need it is declined with
//!   `authentication_required`. With the customer present (first charge, upgrade), a
//!   charge the provider cannot finish synchronously (3-D Secure, bank redirect,
//!   asynchronous capture) is [`ChargeOutcome::Pending`]; the billing worker then polls
//!   `retrieve` until it settles and calls `cancel` when the 24-hour window closes.
//! - never log or return card numbers, CVCs or raw tokens.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::domain::{MethodKind, ProviderToken};

/// Facts about an attached payment method that may be stored and shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedMethod {
    /// The provider's reusable reference ("pm_..."), never a card number.
    pub reference: String,
    pub kind: MethodKind,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub wallet: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded,
    Declined {
        code: String,
        message: String,
    },
    /// Accepted but not settled: waiting for the customer's authentication or the
    /// provider's confirmation. Nothing is granted until it settles.
    Pending,
}

/// The provider's answer to a charge or refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderResult {
    /// The provider's id of the charge or refund.
    pub reference: String,
    pub outcome: ChargeOutcome,
}

#[derive(Debug, Clone)]
pub enum ProviderError {
    /// The token was refused (invalid, expired, already used).
    Rejected(String),
    /// The provider could not be reached; retry with the same idempotency key.
    Unavailable(String),
}

impl std::fmt::Display for ProviderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProviderError::Rejected(m) => write!(f, "rejected: {m}"),
            ProviderError::Unavailable(m) => write!(f, "unavailable: {m}"),
        }
    }
}

impl std::error::Error for ProviderError {}

#[async_trait]
pub trait PaymentProvider: Send + Sync + std::fmt::Debug + 'static {
    /// Turns a client token into a stored method.
    async fn attach(&self, token: &ProviderToken) -> Result<AttachedMethod, ProviderError>;
    /// Detaches a stored method at the provider.
    async fn detach(&self, reference: &str) -> Result<(), ProviderError>;
    /// Charges `amount_minor` of `currency` to `method`; the same `idempotency_key`
    /// always returns the first result.
    /// `off_session` is set when the customer is not present (renewals).
    async fn charge(
        &self,
        idempotency_key: &str,
        method: &str,
        amount_minor: i64,
        currency: &str,
        off_session: bool,
    ) -> Result<ProviderResult, ProviderError>;
    /// The current state of a charge made earlier (used to settle pending charges).
    async fn retrieve(&self, charge: &str) -> Result<ProviderResult, ProviderError>;
    /// Abandons a pending charge (the customer never completed it); afterwards it can no
    /// longer succeed. Cancelling a settled or unknown charge is a no-op.
    async fn cancel(&self, charge: &str) -> Result<(), ProviderError>;
    /// Refunds part of a charge; idempotent per key like `charge`.
    async fn refund(
        &self,
        idempotency_key: &str,
        charge: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<ProviderResult, ProviderError>;
}

/// Test tokens the sandbox understands (a suffix after a second underscore-separated
/// part is allowed, e.g. "tok_sandbox_visa_2", so a user can add several).
pub mod tokens {
    /// Attaches a Visa ending 4242; every charge succeeds.
    pub const VISA: &str = "tok_sandbox_visa";
    /// Attaches a Mastercard ending 4444; every charge succeeds.
    pub const MASTERCARD: &str = "tok_sandbox_mastercard";
    /// Attaches a Visa ending 0002; every charge is declined (`card_declined`).
    pub const DECLINE: &str = "tok_sandbox_decline";
    /// Attaches a Visa ending 9995; the first charge fails (`processing_error`), later
    /// ones (with other idempotency keys) succeed.
    pub const RETRY: &str = "tok_sandbox_retry";
    /// Attaches a Visa ending 0069 that expired; every charge fails (`expired_card`).
    pub const EXPIRED: &str = "tok_sandbox_expired";
    /// Attaches a Visa ending 1881; the first charge attempt finds the provider
    /// unreachable (nothing charged, UNAVAILABLE), later attempts succeed.
    pub const UNAVAILABLE: &str = "tok_sandbox_unavailable";
    /// Attaches a Visa ending 3155 that needs 3-D Secure: a charge with the customer
    /// present is PENDING and succeeds when it is next retrieved; off-session charges
    /// are declined (`authentication_required`).
    pub const PENDING: &str = "tok_sandbox_pending";
    /// Like [`PENDING`] but the authentication fails: PENDING, then declined
    /// (`authentication_failed`).
    pub const PENDING_DECLINE: &str = "tok_sandbox_pendingdecline";
    /// Like [`PENDING`] but the customer never authenticates: it stays PENDING until
    /// cancelled.
    pub const PENDING_FOREVER: &str = "tok_sandbox_pendingforever";
}

#[derive(Debug, Default)]
struct SandboxState {
    /// method reference -> behaviour ("visa", "decline", ...).
    methods: HashMap<String, String>,
    /// idempotency key -> first result.
    results: HashMap<String, ProviderResult>,
    /// method reference -> charges attempted (distinct keys).
    attempts: HashMap<String, u32>,
    /// charge reference -> amount refunded so far.
    refunded: HashMap<String, i64>,
    /// pending charge reference -> (behaviour, idempotency key) until it settles.
    pending: HashMap<String, (String, String)>,
    charges_executed: u64,
    /// methods whose one simulated outage already happened.
    outages: std::collections::HashSet<String>,
    used_tokens: std::collections::HashSet<String>,
}

/// SANDBOX ONLY: a deterministic, in-process imitation of a card processor's test mode.
/// No network, no real money. Enabled by `TRIBE_PAYMENT_SANDBOX`.
#[derive(Debug, Default)]
pub struct SandboxProvider {
    state: Mutex<SandboxState>,
}

impl SandboxProvider {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct charges were executed (a replayed key does not count).
    pub fn charges_executed(&self) -> u64 {
        self.lock().charges_executed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SandboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn behaviour(token: &str) -> Option<(&'static str, AttachedMethod)> {
    let rest = token.strip_prefix("tok_sandbox_")?;
    let kind = rest.split('_').next().unwrap_or_default();
    let card = |behaviour: &'static str, brand: &str, last4: &str, exp_year: i32| {
        (
            behaviour,
            AttachedMethod {
                reference: String::new(),
                kind: MethodKind::Card,
                brand: brand.into(),
                last4: last4.into(),
                exp_month: 12,
                exp_year,
                wallet: String::new(),
            },
        )
    };
    Some(match kind {
        "visa" => card("visa", "visa", "4242", 2034),
        "mastercard" => card("visa", "mastercard", "4444", 2034),
        "decline" => card("decline", "visa", "0002", 2034),
        "retry" => card("retry", "visa", "9995", 2034),
        "expired" => card("expired", "visa", "0069", 2020),
        "unavailable" => card("unavailable", "visa", "1881", 2034),
        "pending" => card("pending", "visa", "3155", 2034),
        "pendingdecline" => card("pendingdecline", "visa", "3220", 2034),
        "pendingforever" => card("pendingforever", "visa", "3063", 2034),
        _ => return None,
    })
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    async fn attach(&self, token: &ProviderToken) -> Result<AttachedMethod, ProviderError> {
        let token = token.expose();
        let Some((behaviour, mut method)) = behaviour(token) else {
            return Err(ProviderError::Rejected("unknown sandbox token".into()));
        };
        let mut state = self.lock();
        if !state.used_tokens.insert(token.to_string()) {
            return Err(ProviderError::Rejected("token already used".into()));
        }
        method.reference = format!("pm_sandbox_{}", uuid::Uuid::now_v7().simple());
        state
            .methods
            .insert(method.reference.clone(), behaviour.to_string());
        Ok(method)
    }

    async fn detach(&self, reference: &str) -> Result<(), ProviderError> {
        self.lock().methods.remove(reference);
        Ok(())
    }

    async fn charge(
        &self,
        key: &str,
        method: &str,
        _amount_minor: i64,
        _currency: &str,
        off_session: bool,
    ) -> Result<ProviderResult, ProviderError> {
        let mut state = self.lock();
        if let Some(first) = state.results.get(key) {
            return Ok(first.clone());
        }
        let behaviour = state
            .methods
            .get(method)
            .cloned()
            .unwrap_or_else(|| "missing".into());
        if behaviour == "unavailable" && state.outages.insert(method.to_string()) {
            return Err(ProviderError::Unavailable("sandbox outage".into()));
        }
        let attempt = {
            let n = state.attempts.entry(method.to_string()).or_default();
            *n += 1;
            *n
        };
        let declined = |code: &str, message: &str| ChargeOutcome::Declined {
            code: code.into(),
            message: message.into(),
        };
        let needs_authentication = behaviour.starts_with("pending");
        let outcome = match behaviour.as_str() {
            _ if needs_authentication && off_session => declined(
                "authentication_required",
                "The card needs the customer to authenticate the payment.",
            ),
            _ if needs_authentication => ChargeOutcome::Pending,
            "visa" | "unavailable" => ChargeOutcome::Succeeded,
            "retry" if attempt > 1 => ChargeOutcome::Succeeded,
            "retry" => declined(
                "processing_error",
                "The card could not be processed; try again.",
            ),
            "decline" => declined("card_declined", "The card was declined."),
            "expired" => declined("expired_card", "The card has expired."),
            _ => declined(
                "card_declined",
                "The payment method is no longer available.",
            ),
        };
        let result = ProviderResult {
            reference: format!("ch_sandbox_{}", uuid::Uuid::now_v7().simple()),
            outcome,
        };
        state.charges_executed += 1;
        if result.outcome == ChargeOutcome::Pending {
            state
                .pending
                .insert(result.reference.clone(), (behaviour, key.to_string()));
        }
        state.results.insert(key.to_string(), result.clone());
        Ok(result)
    }

    async fn retrieve(&self, charge: &str) -> Result<ProviderResult, ProviderError> {
        let mut state = self.lock();
        let Some((behaviour, key)) = state.pending.get(charge).cloned() else {
            return state
                .results
                .values()
                .find(|r| r.reference == charge)
                .cloned()
                .ok_or_else(|| ProviderError::Rejected("unknown charge".into()));
        };
        let outcome = match behaviour.as_str() {
            "pending" => ChargeOutcome::Succeeded,
            "pendingdecline" => ChargeOutcome::Declined {
                code: "authentication_failed".into(),
                message: "The customer did not pass authentication.".into(),
            },
            _ => {
                return Ok(ProviderResult {
                    reference: charge.to_string(),
                    outcome: ChargeOutcome::Pending,
                });
            }
        };
        let settled = ProviderResult {
            reference: charge.to_string(),
            outcome,
        };
        state.pending.remove(charge);
        state.results.insert(key, settled.clone());
        Ok(settled)
    }

    async fn cancel(&self, charge: &str) -> Result<(), ProviderError> {
        let mut state = self.lock();
        if let Some((_, key)) = state.pending.remove(charge) {
            let canceled = ProviderResult {
                reference: charge.to_string(),
                outcome: ChargeOutcome::Declined {
                    code: "canceled".into(),
                    message: "The payment was canceled.".into(),
                },
            };
            state.results.insert(key, canceled);
        }
        Ok(())
    }

    async fn refund(
        &self,
        key: &str,
        charge: &str,
        amount_minor: i64,
        _currency: &str,
    ) -> Result<ProviderResult, ProviderError> {
        let mut state = self.lock();
        if let Some(first) = state.results.get(key) {
            return Ok(first.clone());
        }
        *state.refunded.entry(charge.to_string()).or_default() += amount_minor;
        let result = ProviderResult {
            reference: format!("re_sandbox_{}", uuid::Uuid::now_v7().simple()),
            outcome: ChargeOutcome::Succeeded,
        };
        state.results.insert(key.to_string(), result.clone());
        Ok(result)
    }
}
