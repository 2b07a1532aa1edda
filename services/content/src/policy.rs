//! Who may call each ContentService method. Every method is listed; the auth layer refuses
//! anything missing. Ownership, visibility and the trainer rule for PREMIUM/TRAINER posts
//! are checked in the use-cases.

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
        ("CreatePost", AnyUser),
        ("GetPost", AnyUser),
        ("UpdatePost", AnyUser),
        ("DeletePost", AnyUser),
        ("GetFeed", AnyUser),
        ("ListUserPosts", AnyUser),
        ("LikePost", AnyUser),
        ("UnlikePost", AnyUser),
        ("CreateComment", AnyUser),
        ("ListComments", AnyUser),
        ("DeleteComment", AnyUser),
        ("LikeComment", AnyUser),
        ("UnlikeComment", AnyUser),
        ("ListTrendingPosts", AnyUser),
        ("ListTrendingTags", AnyUser),
        ("SearchPosts", AnyUser),
        ("ReportPost", AnyUser),
        ("ListPostReports", Admin),
        ("ModeratePost", Admin),
        ("BatchGetPosts", Internal),
    ],
    streaming: &[],
};

/// The service's short name: its database, topic and key prefixes ("svc.content."), and
/// the name it signs its calls to other services as.
pub const SERVICE_NAME: &str = "content";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.content.v1.ContentService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "content.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// Every RPC in the descriptor set has a policy, and no policy names a missing RPC.
    #[test]
    fn every_method_has_a_policy() {
        let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET)
            .unwrap_or_default();
        let declared: BTreeSet<String> = set
            .file
            .iter()
            .filter(|f| f.package() == "trainertribe.content.v1")
            .flat_map(|f| f.service.iter().map(move |s| (f.package().to_string(), s)))
            .flat_map(|(pkg, s)| {
                s.method
                    .iter()
                    .map(move |m| format!("/{pkg}.{}/{}", s.name(), m.name()))
            })
            .collect();
        assert!(
            !declared.is_empty(),
            "descriptor set has the content service"
        );
        let policies = policies();
        let covered: BTreeSet<String> = policies.paths().map(str::to_string).collect();
        assert_eq!(declared, covered);
    }
}
