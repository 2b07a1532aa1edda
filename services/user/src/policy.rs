//! Who may call each UserService method. Every method is listed; the auth layer refuses
//! anything missing. Ownership checks happen in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.user.v1.UserService";

/// Methods the Envoy edge serves without a token.
pub const ANONYMOUS: &[&str] = &["Register", "Login", "RefreshToken"];
/// Methods for other services only; Envoy never routes them.
pub const INTERNAL: &[&str] = &["BatchGetUsers", "BatchGetRelationships", "ListFollowerIds"];
/// Server-streaming methods (no route timeout at the edge).
pub const STREAMING: &[&str] = &["ListFollowerIds"];

pub fn policies() -> MethodPolicies {
    use Policy::*;
    MethodPolicies::new().service(
        SERVICE,
        &[
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
            ("BatchGetRelationships", Internal),
            ("ListFollowerIds", Internal),
        ],
    )
}
