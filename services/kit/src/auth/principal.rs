//! The caller, typed: what the auth layer established about a request, parsed once so
//! handlers never re-read a token, a role string or a user id.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ApiError;

/// A user's id: always a UUID (the user service issues v7 ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(Uuid);

impl UserId {
    pub const fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub const fn uuid(self) -> Uuid {
        self.0
    }

    /// Parses a request field naming a user; the error reads well as a field violation.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        raw.parse().map_err(|_| "must be a user id (UUID)")
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for UserId {
    type Err = uuid::Error;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(raw).map(Self)
    }
}

impl From<Uuid> for UserId {
    fn from(id: Uuid) -> Self {
        Self(id)
    }
}

impl From<UserId> for Uuid {
    fn from(id: UserId) -> Self {
        id.0
    }
}

/// A request field holding a user id equals the caller when it parses to the same UUID
/// (so "0190…" and "0190…" in upper case name the same user).
impl PartialEq<str> for UserId {
    fn eq(&self, other: &str) -> bool {
        Uuid::parse_str(other).is_ok_and(|id| id == self.0)
    }
}

impl PartialEq<String> for UserId {
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

/// What a token's `roles` claim can grant. Unknown role names grant nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Trainer,
    Admin,
    SupportAgent,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::User, Role::Trainer, Role::Admin, Role::SupportAgent];

    /// The claim value ("support_agent").
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Trainer => "trainer",
            Role::Admin => "admin",
            Role::SupportAgent => "support_agent",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The subscription tier a token carries (the `tier` claim). Anything unrecognised is
/// `Free`: a token never grants more than it clearly says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Tier {
    #[default]
    Free,
    Premium,
    Pro,
}

impl Tier {
    /// The claim value ("premium").
    pub const fn as_str(self) -> &'static str {
        match self {
            Tier::Free => "free",
            Tier::Premium => "premium",
            Tier::Pro => "pro",
        }
    }

    /// Case-insensitive; unknown or empty is `Free`.
    pub fn from_claim(raw: &str) -> Self {
        match raw.to_ascii_lowercase().as_str() {
            "premium" => Tier::Premium,
            "pro" => Tier::Pro,
            _ => Tier::Free,
        }
    }

    /// Premium content is open to PREMIUM and PRO.
    pub const fn is_paid(self) -> bool {
        matches!(self, Tier::Premium | Tier::Pro)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signed-in user, as verified from an access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub user_id: UserId,
    /// `user_id` as text, kept so page scopes, event actors and logs borrow it.
    subject: String,
    pub roles: Vec<Role>,
    pub tier: Tier,
    /// The refresh-token family (session) the access token belongs to.
    pub session_id: String,
    /// When the access token stops being valid (its `exp`): a stream opened with it
    /// must not outlive it.
    pub expires_at: DateTime<Utc>,
}

impl UserPrincipal {
    pub fn new(
        user_id: UserId,
        roles: Vec<Role>,
        tier: Tier,
        session_id: impl Into<String>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id,
            subject: user_id.to_string(),
            roles,
            tier,
            session_id: session_id.into(),
            expires_at,
        }
    }

    /// The caller's id as text (hyphenated, lower case): page scopes, event actors, logs.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    /// The caller's id as a UUID, for stores.
    pub fn id(&self) -> Uuid {
        self.user_id.uuid()
    }
}

/// Who is calling, as established by the auth layer and stored in request extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No token (public methods only).
    Anonymous,
    User(UserPrincipal),
    /// Another TrainerTribe service, by name ("content").
    Service(String),
}

impl Principal {
    /// Reads the principal the auth layer attached to a request.
    pub fn of<T>(request: &tonic::Request<T>) -> Result<Principal, ApiError> {
        request
            .extensions()
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthenticated("UNAUTHENTICATED", "missing credentials"))
    }

    /// The calling user, or UNAUTHENTICATED / PERMISSION_DENIED for anyone else.
    pub fn user<T>(request: &tonic::Request<T>) -> Result<UserPrincipal, ApiError> {
        match Self::of(request)? {
            Principal::User(user) => Ok(user),
            Principal::Anonymous => Err(ApiError::unauthenticated(
                "UNAUTHENTICATED",
                "a user access token is required",
            )),
            Principal::Service(_) => Err(ApiError::permission_denied(
                "a user access token is required",
            )),
        }
    }

    /// The calling service's name, or PERMISSION_DENIED.
    pub fn service<T>(request: &tonic::Request<T>) -> Result<String, ApiError> {
        match Self::of(request)? {
            Principal::Service(name) => Ok(name),
            _ => Err(ApiError::permission_denied(
                "internal method: service credential required",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_compare_with_request_fields() {
        let id = UserId::new(Uuid::now_v7());
        let (text, upper) = (id.to_string(), id.to_string().to_uppercase());
        let (garbage, other) = (String::from("not-a-uuid"), Uuid::now_v7().to_string());
        assert!(id == text);
        assert!(id == upper);
        assert!(id != garbage);
        assert!(id != other);
        assert_eq!(UserId::parse("x"), Err("must be a user id (UUID)"));
    }

    #[test]
    fn claims_never_grant_more_than_they_say() {
        assert_eq!(Tier::from_claim("PRO"), Tier::Pro);
        assert_eq!(Tier::from_claim("platinum"), Tier::Free);
        assert_eq!(Tier::from_claim(""), Tier::Free);
        assert_eq!(Role::parse("support_agent"), Some(Role::SupportAgent));
        assert_eq!(Role::parse("root"), None);
        assert!(Tier::Premium.is_paid() && !Tier::Free.is_paid());
    }
}
