//! Field checks and request plumbing every fitness resource shares: texts, https URLs,
//! enums, ids, categories, past times, who may publish and premium gates; page requests
//! in `pages`, the AIP-155 replay of create RPCs in `replay`.

mod pages;
mod replay;

use std::collections::HashSet;

use chrono::{DateTime, Duration, TimeZone, Utc};
use sqlx::PgConnection;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::{ApiError, Violations};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

pub(crate) use self::pages::{
    bad_token, page_size, score_id_cursor, score_id_keys, score_time_id_cursor, score_time_id_keys,
};
pub(crate) use self::replay::Replay;
use super::FitnessService;
use crate::convert::from_timestamp;

/// The merge of an update: copies each named field whose path `mask` lists from
/// `input` onto `target` (the field carries the same name on both).
macro_rules! copy_masked {
    ($mask:expr, $target:expr, $input:expr; $($field:ident),+ $(,)?) => {$(
        if $mask.contains(stringify!($field)) {
            $target.$field = $input.$field.clone();
        }
    )+};
}
pub(crate) use copy_masked;

/// At most this many categories per item.
const MAX_CATEGORIES: usize = 5;
const MAX_URL: usize = 2048;
/// How far in the future a completion or measurement time may be (clock skew).
const FUTURE_SLACK_MINUTES: i64 = 5;

/// A required text of 1-`max` characters that is not only whitespace.
pub(crate) fn required_text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        v.add(field, "is required");
    } else {
        optional_text(v, field, value, max);
    }
}

/// A text of at most `max` characters.
pub(crate) fn optional_text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
}

/// Empty, or an https URL with a host, of at most 2048 characters.
pub(crate) fn https_url(v: &mut Violations, field: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let ok = value.len() <= MAX_URL
        && url::Url::parse(value)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()));
    if !ok {
        v.add(field, "must be an https URL of at most 2048 characters");
    }
}

/// A required enum value: UNSPECIFIED "is required", a number the enum lacks "unknown
/// value".
pub(crate) fn required_enum<E>(v: &mut Violations, field: &str, raw: i32) -> Option<E>
where
    E: Copy + PartialEq + Default + TryFrom<i32>,
{
    match E::try_from(raw) {
        Ok(e) if e == E::default() => {
            v.add(field, "is required");
            None
        }
        Ok(e) => Some(e),
        Err(_) => {
            v.add(field, "unknown value");
            None
        }
    }
}

/// An optional enum value (a list filter, an unset difficulty): UNSPECIFIED is `None`, a
/// number the enum lacks "unknown value".
pub(crate) fn optional_enum<E>(v: &mut Violations, field: &str, raw: i32) -> Option<E>
where
    E: Copy + PartialEq + Default + TryFrom<i32>,
{
    match E::try_from(raw) {
        Ok(e) if e == E::default() => None,
        Ok(e) => Some(e),
        Err(_) => {
            v.add(field, "unknown value");
            None
        }
    }
}

/// The `premium_filter` of a list: premium only `Some(true)`, free only `Some(false)`.
pub(crate) fn premium_filter(v: &mut Violations, raw: i32) -> Option<bool> {
    optional_enum::<pb::PremiumFilter>(v, "premium_filter", raw)
        .map(|f| f == pb::PremiumFilter::PremiumOnly)
}

/// A required id: "is required" when empty, "is not a valid id" when malformed.
pub(crate) fn required_id(v: &mut Violations, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        v.add(field, "is required");
        return None;
    }
    optional_id(v, field, value)
}

/// An optional id: empty is `None`, a malformed one "is not a valid id".
pub(crate) fn optional_id(v: &mut Violations, field: &str, value: &str) -> Option<Uuid> {
    if value.is_empty() {
        return None;
    }
    v.check(
        field,
        Uuid::try_parse(value).map_err(|_| "is not a valid id"),
    )
}

/// At most five distinct category ids, each one of the category catalog's.
pub(crate) async fn categories(
    conn: &mut PgConnection,
    v: &mut Violations,
    field: &str,
    ids: &[String],
) -> Result<(), ApiError> {
    if ids.len() > MAX_CATEGORIES {
        v.add(field, "at most 5 categories");
    }
    let mut seen = HashSet::new();
    let unknown = crate::store::catalog::unknown_categories(conn, ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id.as_str()) {
            v.add(format!("{field}[{i}]"), "is a duplicate");
        } else if unknown.contains(id) {
            v.add(format!("{field}[{i}]"), "unknown category");
        }
    }
    Ok(())
}

/// When something happened: not before 2000 and at most a few minutes ahead of `now`;
/// unset is `now`.
pub(crate) fn past_time(
    v: &mut Violations,
    field: &str,
    at: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let Some(ts) = at else { return now };
    let Some(at) = from_timestamp(ts) else {
        v.add(field, "is not a valid time");
        return now;
    };
    let earliest = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
    if earliest.is_some_and(|earliest| at < earliest) {
        v.add(field, "must not be before 2000-01-01");
    } else if at > now + Duration::minutes(FUTURE_SLACK_MINUTES) {
        v.add(field, "must not be in the future");
    }
    at
}

/// Trainers and admins publish content (exercises, public workouts, challenges,
/// nutrition).
pub(crate) fn may_publish(caller: &UserPrincipal) -> bool {
    caller.has_role(Role::Trainer) || caller.is_admin()
}

/// PERMISSION_DENIED "only trainers and admins `what`" unless [`may_publish`].
pub(crate) fn require_publisher(caller: &UserPrincipal, what: &str) -> Result<(), ApiError> {
    if may_publish(caller) {
        Ok(())
    } else {
        Err(ApiError::permission_denied(format!(
            "only trainers and admins {what}"
        )))
    }
}

/// The creator of a workout as `workout_for` returns it.
pub(crate) fn workout_creator(workout: &pb::Workout) -> Option<Uuid> {
    workout
        .creator
        .as_ref()
        .and_then(|c| Uuid::try_parse(&c.user_id).ok())
}

impl FitnessService {
    /// [`FitnessService::require_premium`] for an item that is `premium`; anything else
    /// is open.
    pub(crate) async fn premium_gate(
        &self,
        caller: &UserPrincipal,
        premium: bool,
        creator: Uuid,
    ) -> Result<(), ApiError> {
        if premium {
            self.require_premium(caller, creator).await
        } else {
            Ok(())
        }
    }

    /// PERMISSION_DENIED PREMIUM_REQUIRED unless the caller may open `workout` as
    /// `workout_for` returned it: a PREMIUM one needs premium, its creator or an admin.
    pub(crate) async fn premium_workout_gate(
        &self,
        caller: &UserPrincipal,
        workout: &pb::Workout,
    ) -> Result<(), ApiError> {
        let premium = workout.visibility == pb::WorkoutVisibility::Premium as i32;
        let creator = workout_creator(workout).unwrap_or_default();
        self.premium_gate(caller, premium, creator).await
    }
}
