//! Use-cases of the payment service. Each takes the caller and a request, validates it
//! completely before touching storage, and runs its writes, its events and its AIP-155
//! replay record in one transaction.

mod methods;
mod plans;
mod subscriptions;
mod transactions;

pub use subscriptions::{charge_key, renew_due, settle_incomplete};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use prost::Message;
use sqlx::{PgConnection, PgPool};
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency;
use tribe_kit::page::PageTokens;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::clock::Clock;
use crate::provider::{PaymentProvider, ProviderError};

pub const TOPIC: &str = "tribe.payment.v1";
const PRODUCER: &str = "payment";
/// Stored name of the sandbox provider (`PAYMENT_PROVIDER_TEST`).
pub const SANDBOX: &str = "TEST";

/// A use-case failure: an ordinary API error, or a declined charge, which carries the
/// failed transaction and failure code in its ErrorInfo metadata.
#[derive(Debug)]
pub enum Error {
    Api(ApiError),
    Declined { transaction_id: String, failure_code: String, message: String },
}

impl From<ApiError> for Error {
    fn from(err: ApiError) -> Self {
        Error::Api(err)
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Api(err.into())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

fn provider_error(err: ProviderError) -> Error {
    match err {
        ProviderError::Rejected(_) => ApiError::failed_precondition("TOKEN_REJECTED", "the payment provider refused the token").into(),
        ProviderError::Unavailable(why) => {
            tracing::warn!(error = %why, "payment provider unavailable");
            ApiError::unavailable("PROVIDER_UNAVAILABLE", "the payment provider could not be reached; retry with the same request_id")
                .into()
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
        f.debug_struct("PaymentService").field("sandbox", &self.sandbox).finish_non_exhaustive()
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
        let Deps { pool, pages, provider, clock, sandbox, faults } = deps;
        Self { pool, pages, provider, clock, sandbox, faults }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Writes an event keyed by the user into the outbox of the current transaction.
async fn emit(conn: &mut PgConnection, user: Uuid, actor: &str, payload: Payload) -> Result<()> {
    let event = tribe_kit::outbox::envelope(PRODUCER, &user.to_string(), actor, payload);
    Ok(tribe_kit::outbox::enqueue(conn, TOPIC, &event).await?)
}

/// The caller's id as a UUID (tokens we issue always carry one).
fn caller_id(caller: &UserPrincipal) -> std::result::Result<Uuid, ApiError> {
    Uuid::parse_str(caller.subject()).map_err(|_| ApiError::unauthenticated("UNAUTHENTICATED", "token subject is not a user id"))
}

/// Whose resources a list reads: empty = the caller; another user only for admins
/// (NOT_FOUND otherwise, so existence is not revealed).
fn subject(caller: &UserPrincipal, user_id: &str) -> std::result::Result<Uuid, ApiError> {
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

/// An AIP-155 outcome worth replaying: a success, or a declined charge (its FAILED
/// transaction is committed, so the decline is the answer for that key).
fn stored_outcome<R: Message>(outcome: &Result<R>) -> Option<Vec<u8>> {
    match outcome {
        Ok(response) => {
            let mut bytes = vec![0u8];
            bytes.extend(response.encode_to_vec());
            Some(bytes)
        }
        Err(Error::Declined { transaction_id, failure_code, message }) => {
            let mut bytes = vec![1u8];
            bytes.extend(format!("{transaction_id}\0{failure_code}\0{message}").into_bytes());
            Some(bytes)
        }
        Err(Error::Api(_)) => None,
    }
}

fn replayed<R: Message + Default>(bytes: &[u8]) -> Result<R> {
    match bytes.split_first() {
        Some((0, rest)) => Ok(R::decode(rest).map_err(ApiError::internal)?),
        Some((1, rest)) => {
            let text = String::from_utf8_lossy(rest);
            let mut parts = text.splitn(3, '\0');
            let (t, c, m) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            Err(Error::Declined { transaction_id: t.into(), failure_code: c.into(), message: m.into() })
        }
        _ => Err(ApiError::internal(anyhow::anyhow!("corrupt idempotency record")).into()),
    }
}

/// Hash of a request's parameters: the method and the encoding of the request with its
/// request_id cleared.
fn params_hash(method: &str, encoded_without_request_id: &[u8]) -> Vec<u8> {
    let mut data = method.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(encoded_without_request_id);
    idempotency::request_hash(&data)
}

/// Runs `effect` once per (caller, method, request_id): claims the key in a new
/// transaction, replays a stored outcome, or runs the effect and stores its outcome in
/// the same transaction. Errors other than a decline roll everything back, so a retry
/// redoes the whole call (provider calls are idempotent by their own derived key).
macro_rules! idempotent {
    ($self:ident, $caller:expr, $method:expr, $request_id:expr, $hash:expr, |$tx:ident| $effect:expr) => {{
        let request_id = tribe_kit::ids::parse_request_id($request_id)?.to_string();
        let mut $tx = $self.pool.begin().await.map_err(crate::service::Error::from)?;
        match tribe_kit::idempotency::claim(&mut $tx, $caller, $method, &request_id, &$hash).await? {
            tribe_kit::idempotency::Claim::Replay(bytes) => crate::service::replayed(&bytes),
            tribe_kit::idempotency::Claim::Fresh => {
                let outcome = $effect;
                if let Some(bytes) = crate::service::stored_outcome(&outcome) {
                    tribe_kit::idempotency::complete(&mut $tx, $caller, $method, &request_id, &bytes).await?;
                    $tx.commit().await.map_err(crate::service::Error::from)?;
                }
                outcome
            }
        }
    }};
}
pub(crate) use idempotent;
