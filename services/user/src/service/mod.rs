//! Use-cases of the user service. Each takes the caller and a request, validates it
//! completely before touching storage, and runs its writes and their events in one
//! transaction.

mod accounts;
mod graph;
mod preferences;
mod profile;

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tribe_kit::ApiError;
use tribe_kit::auth::TokenSigner;
use tribe_kit::page::PageTokens;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::config::Limits;
use crate::store::throttle::Throttle;

pub const TOPIC: &str = "tribe.user.v1";
const PRODUCER: &str = "user";

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct UserService {
    pub(crate) pool: PgPool,
    pub(crate) signer: TokenSigner,
    pub(crate) audience: String,
    pub(crate) pages: PageTokens,
    pub(crate) throttle: Throttle,
    pub(crate) limits: Limits,
    pub(crate) access_ttl: Duration,
    pub(crate) refresh_ttl: Duration,
    pub(crate) hasher: Arc<accounts::PasswordHasher>,
}

impl std::fmt::Debug for UserService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserService").finish_non_exhaustive()
    }
}

/// Construction parameters of [`UserService`].
pub struct Deps {
    pub pool: PgPool,
    pub signer: TokenSigner,
    pub audience: String,
    pub pages: PageTokens,
    pub throttle: Throttle,
    pub limits: Limits,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
}

impl UserService {
    pub fn new(deps: Deps) -> Self {
        let Deps {
            pool,
            signer,
            audience,
            pages,
            throttle,
            limits,
            access_ttl,
            refresh_ttl,
        } = deps;
        Self {
            pool,
            signer,
            audience,
            pages,
            throttle,
            limits,
            access_ttl,
            refresh_ttl,
            hasher: Arc::new(accounts::PasswordHasher::new()),
        }
    }
}

/// Writes an event for `aggregate` into the outbox of the current transaction.
pub(crate) async fn emit(
    conn: &mut PgConnection,
    aggregate: Uuid,
    actor: &str,
    payload: Payload,
) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(PRODUCER, &aggregate.to_string(), actor, payload);
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}
