//! Use-cases of the fitness service. Each takes the caller and a request, validates it
//! completely before touching storage, authorizes it, and runs its writes and their
//! events in one transaction.

mod body;
pub mod catalog;
pub mod challenges;
pub mod coaching;
mod fields;
mod nutrition;
pub mod programs;
mod progress;
mod session;
mod stats;
pub mod workouts;

use std::collections::HashMap;

use chrono_tz::Tz;
use sqlx::{PgConnection, PgPool};
use tonic::Code;
use tribe_kit::ApiError;
use tribe_kit::auth::{Tier, UserPrincipal};
use tribe_kit::page::PageTokens;
use tribe_kit::peers::UserDirectory;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::premium::Entitlements;

pub const TOPIC: &str = "tribe.fitness.v1";
const PRODUCER: &str = "fitness";

/// Reason of the PERMISSION_DENIED a locked premium item gets.
pub const PREMIUM_REQUIRED: &str = "PREMIUM_REQUIRED";

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct FitnessService {
    pub(crate) pool: PgPool,
    pub(crate) pages: PageTokens,
    pub(crate) users: Option<UserDirectory>,
    pub(crate) entitlements: Entitlements,
}

impl std::fmt::Debug for FitnessService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitnessService").finish_non_exhaustive()
    }
}

/// Construction parameters of [`FitnessService`].
pub struct Deps {
    pub pool: PgPool,
    pub pages: PageTokens,
    pub users: Option<UserDirectory>,
    pub entitlements: Entitlements,
}

impl FitnessService {
    pub fn new(deps: Deps) -> Self {
        let Deps {
            pool,
            pages,
            users,
            entitlements,
        } = deps;
        Self {
            pool,
            pages,
            users,
            entitlements,
        }
    }

    /// Whether the caller may open premium items (see `premium`).
    pub(crate) async fn caller_is_paid(&self, caller: &UserPrincipal) -> bool {
        self.entitlements.is_paid(caller.id(), caller.tier).await
    }

    /// Whether another user (a trainer's client) may open premium items; no token of
    /// theirs is at hand, so only the payment service can say yes.
    pub(crate) async fn user_is_paid(&self, user: Uuid) -> bool {
        self.entitlements.is_paid(user, Tier::Free).await
    }

    /// PERMISSION_DENIED PREMIUM_REQUIRED unless the caller is the item's creator, an
    /// admin, or paid.
    pub(crate) async fn require_premium(
        &self,
        caller: &UserPrincipal,
        creator: Uuid,
    ) -> Result<(), ApiError> {
        if caller.id() == creator || caller.is_admin() || self.caller_is_paid(caller).await {
            Ok(())
        } else {
            Err(premium_required())
        }
    }

    /// Summaries of `ids` by id; users the user service does not return (or all, when
    /// it is unavailable) get an id-only summary.
    pub(crate) async fn summaries(&self, ids: &[Uuid]) -> HashMap<Uuid, UserSummary> {
        let mut unique: Vec<Uuid> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut found = match &self.users {
            Some(users) if !unique.is_empty() => match users.summaries(&unique).await {
                Ok(found) => found,
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "user summaries unavailable");
                    HashMap::new()
                }
            },
            _ => HashMap::new(),
        };
        for id in unique {
            found.entry(id).or_insert_with(|| UserSummary {
                user_id: id.to_string(),
                ..Default::default()
            });
        }
        found
    }

    /// Whether `user` exists according to the user service. UNAVAILABLE when it cannot
    /// be asked; `true` without a configured user service (nothing to check against).
    pub(crate) async fn user_exists(&self, user: Uuid) -> Result<bool, ApiError> {
        match &self.users {
            None => Ok(true),
            Some(users) => match users.summaries(&[user]).await {
                Ok(found) => Ok(found.contains_key(&user)),
                Err(err) => Err(ApiError::unavailable(
                    "USER_SERVICE_UNAVAILABLE",
                    format!("cannot check the user: {err:#}"),
                )),
            },
        }
    }

    /// The time zone days are counted in for `user`: `requested` when given (an unknown
    /// zone is INVALID_ARGUMENT on `field`), else the user's preference, else UTC.
    pub(crate) async fn time_zone_of(
        &self,
        user: Uuid,
        requested: &str,
        field: &str,
    ) -> Result<Tz, ApiError> {
        if !requested.is_empty() {
            return requested
                .parse::<Tz>()
                .map_err(|_| ApiError::invalid_field(field, "not a known IANA time zone"));
        }
        let Some(users) = &self.users else {
            return Ok(Tz::UTC);
        };
        match users.time_zones(&[user]).await {
            Ok(zones) => Ok(zones
                .get(&user)
                .and_then(|zone| zone.parse::<Tz>().ok())
                .unwrap_or(Tz::UTC)),
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "time zone unavailable: using UTC");
                Ok(Tz::UTC)
            }
        }
    }

    /// Progress of `user` is readable by them, an admin, and a trainer they are an
    /// ACTIVE client of; anyone else gets PERMISSION_DENIED.
    pub(crate) async fn authorize_progress_read(
        &self,
        caller: &UserPrincipal,
        user: Uuid,
    ) -> Result<(), ApiError> {
        if caller.id() == user || caller.is_admin() {
            return Ok(());
        }
        let mut conn = self.pool.acquire().await?;
        if crate::store::coaching::is_active_coach(&mut conn, caller.id(), user).await? {
            Ok(())
        } else {
            Err(ApiError::permission_denied(
                "progress is readable by its owner, their trainer and admins",
            ))
        }
    }
}

/// The PERMISSION_DENIED of a locked premium item.
pub(crate) fn premium_required() -> ApiError {
    ApiError::rejected(
        Code::PermissionDenied,
        PREMIUM_REQUIRED,
        "this item needs a premium subscription",
    )
}

/// Writes an event for `aggregate` into the outbox of the current transaction.
pub(crate) async fn emit(
    conn: &mut PgConnection,
    aggregate: Uuid,
    actor: Uuid,
    payload: Payload,
) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(
        PRODUCER,
        &aggregate.to_string(),
        &actor.to_string(),
        payload,
    );
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}

/// Writes an event no user caused (a background job's) into the outbox of the current
/// transaction: its actor is empty.
pub(crate) async fn emit_system(
    conn: &mut PgConnection,
    aggregate: Uuid,
    payload: Payload,
) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(PRODUCER, &aggregate.to_string(), "", payload);
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}
