//! Use-cases of the payment service. Each takes the caller and a request, validates it
//! completely before touching storage, and runs its writes, its events and its AIP-155
//! replay record in one transaction. A module per resource, plus the charges every
//! money-moving use-case makes, the billing worker's steps and the events they publish.

mod billing;
mod charges;
mod events;
mod idempotency;
mod methods;
mod plan_change;
mod plans;
mod subscription_lookup;
mod subscription_update;
mod subscriptions;
mod transactions;

pub use charges::{PAYMENT_DECLINED, charge_key};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::{PgConnection, PgPool};
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::PageTokens;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::clock::Clock;
use crate::provider::{PaymentProvider, ProviderError};

pub const TOPIC: &str = "tribe.payment.v1";
const PRODUCER: &str = "payment";

fn provider_error(err: ProviderError) -> ApiError {
    match err {
        ProviderError::Rejected(_) => ApiError::failed_precondition(
            "TOKEN_REJECTED",
            "the payment provider refused the token",
        ),
        ProviderError::Unavailable(why) => {
            tracing::warn!(error = %why, "payment provider unavailable");
            ApiError::unavailable(
                "PROVIDER_UNAVAILABLE",
                "the payment provider could not be reached; retry with the same request_id",
            )
        }
    }
}

/// Test hooks that simulate failures at precise points.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next charge succeeds at the provider, then the service dies before committing.
    pub crash_after_charge: AtomicBool,
}

impl Faults {
    fn take(flag: &AtomicBool) -> bool {
        flag.swap(false, Ordering::SeqCst)
    }
}

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct PaymentService {
    pub(crate) pool: PgPool,
    pub(crate) pages: PageTokens,
    pub(crate) provider: Arc<dyn PaymentProvider>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) sandbox: bool,
    pub(crate) faults: Arc<Faults>,
}

impl std::fmt::Debug for PaymentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentService")
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

/// Construction parameters of [`PaymentService`].
pub struct Deps {
    pub pool: PgPool,
    pub pages: PageTokens,
    pub provider: Arc<dyn PaymentProvider>,
    pub clock: Arc<dyn Clock>,
    pub sandbox: bool,
    pub faults: Arc<Faults>,
}

impl PaymentService {
    pub fn new(deps: Deps) -> Self {
        let Deps {
            pool,
            pages,
            provider,
            clock,
            sandbox,
            faults,
        } = deps;
        Self {
            pool,
            pages,
            provider,
            clock,
            sandbox,
            faults,
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Writes an event keyed by the user into the outbox of the current transaction.
async fn emit(
    conn: &mut PgConnection,
    user: Uuid,
    actor: &str,
    payload: Payload,
) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(PRODUCER, &user.to_string(), actor, payload);
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}

/// Whose resources a list reads: empty = the caller; another user only for admins
/// (NOT_FOUND otherwise, so existence is not revealed).
fn subject(caller: &UserPrincipal, user_id: &str) -> Result<Uuid, ApiError> {
    let me = caller.id();
    if user_id.is_empty() {
        return Ok(me);
    }
    let id = tribe_kit::ids::parse_id("user_id", user_id)?;
    if id != me && !caller.is_admin() {
        return Err(ApiError::not_found("user"));
    }
    Ok(id)
}

/// A stored row that must exist because another references it (a subscription's plan).
fn dangling(what: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("{what}"))
}

/// The description of an INVALID_ARGUMENT's first violation, to record it under another
/// field name (a request field nested in a resource).
fn description(e: &ApiError) -> String {
    match e {
        ApiError::InvalidArgument { violations, .. } => violations
            .first()
            .map(|v| v.description.clone())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}
