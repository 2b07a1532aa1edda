//! Who may call each MessagingService method. Every method is listed; the auth layer
//! refuses anything missing. Participation and roles are checked in the use-cases.

use tribe_kit::auth::Policy::*;
use tribe_kit::auth::{MethodPolicies, Surface};

/// Who may call each method, the edge's routing facts and the error domain: the one
/// place they are declared (the auth layer, the mesh's Envoy config and the error
/// conversion all read this). No method is anonymous or internal.
pub const SURFACE: Surface = Surface {
    name: SERVICE_NAME,
    service: SERVICE,
    error_domain: ERROR_DOMAIN,
    methods: &[
        ("CreateConversation", AnyUser),
        ("GetConversation", AnyUser),
        ("ListConversations", AnyUser),
        ("SendMessage", AnyUser),
        ("ListMessages", AnyUser),
        ("MarkRead", AnyUser),
        ("SearchMessages", AnyUser),
        ("SetTyping", AnyUser),
        ("CreateGroup", AnyUser),
        ("ListGroups", AnyUser),
        ("UpdateGroup", AnyUser),
        ("ListGroupMembers", AnyUser),
        ("AddGroupMember", AnyUser),
        ("RemoveGroupMember", AnyUser),
        ("LeaveGroup", AnyUser),
        ("SetGroupMemberRole", AnyUser),
        ("StreamEvents", AnyUser),
        ("BatchGetPresence", AnyUser),
        ("ListNotifications", AnyUser),
        ("MarkNotificationsRead", AnyUser),
        ("GetUnreadCounts", AnyUser),
    ],
    streaming: &["StreamEvents"],
};

/// The service's short name: its database, topic and key prefixes ("svc.messaging.").
pub const SERVICE_NAME: &str = "messaging";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.messaging.v1.MessagingService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "messaging.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}
