//! Who may call each UserService method. Every method is listed; the auth layer refuses
//! anything missing. Ownership checks happen in the use-cases.

use tribe_kit::auth::Policy::*;
use tribe_kit::auth::{MethodPolicies, Surface};

/// Who may call each method, the edge's routing facts and the error domain: the one
/// place they are declared (the auth layer, the mesh's Envoy config and the error
/// conversion all read this).
pub const SURFACE: Surface = Surface {
    name: SERVICE_NAME,
    service: SERVICE,
    error_domain: ERROR_DOMAIN,
    methods: &[
        ("Register", Public),
        ("Login", Public),
        ("RefreshToken", Public),
        ("Logout", AnyUser),
        ("GetUser", AnyUser),
        ("UpdateUser", AnyUser),
        ("ListFollowers", AnyUser),
        ("ListFollowing", AnyUser),
        ("FollowUser", AnyUser),
        ("UnfollowUser", AnyUser),
        ("SearchUsers", AnyUser),
        ("GetPreferences", AnyUser),
        ("UpdatePreferences", AnyUser),
        ("SetSocialLink", AnyUser),
        ("DeleteSocialLink", AnyUser),
        ("ListSpecialties", AnyUser),
        ("SetMySpecialties", Trainer),
        ("ListAchievements", AnyUser),
        ("BlockUser", AnyUser),
        ("UnblockUser", AnyUser),
        ("ListBlockedUsers", AnyUser),
        ("GetRelationships", AnyUser),
        ("BatchGetUsers", Internal),
        ("BatchGetTimeZones", Internal),
        ("BatchGetRelationships", Internal),
        ("ListFollowerIds", Internal),
    ],
    streaming: &["ListFollowerIds"],
};

/// The service's short name: its database, topic and key prefixes ("svc.user.").
pub const SERVICE_NAME: &str = "user";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.user.v1.UserService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "user.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}
