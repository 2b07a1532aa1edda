//! Who may call each MessagingService method. Every method is listed; the auth layer
//! refuses anything missing. Participation and roles are checked in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.messaging.v1.MessagingService";

/// Methods the Envoy edge serves without a token: none.
pub const ANONYMOUS: &[&str] = &[];
/// Methods for other services only: none.
pub const INTERNAL: &[&str] = &[];
/// Server-streaming methods (no route timeout at the edge).
pub const STREAMING: &[&str] = &["StreamEvents"];

pub fn policies() -> MethodPolicies {
    use Policy::*;
    MethodPolicies::new().service(
        SERVICE,
        &[
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
    )
}
