//! Who may call each ContentService method. Every method is listed; the auth layer refuses
//! anything missing. Ownership, visibility and the trainer rule for PREMIUM/TRAINER posts
//! are checked in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.content.v1.ContentService";

/// Methods the Envoy edge serves without a token.
pub const ANONYMOUS: &[&str] = &[];
/// Methods for other services only; Envoy never routes them.
pub const INTERNAL: &[&str] = &["BatchGetPosts"];
/// Server-streaming methods (no route timeout at the edge).
pub const STREAMING: &[&str] = &[];

pub fn policies() -> MethodPolicies {
    use Policy::*;
    MethodPolicies::new().service(
        SERVICE,
        &[
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
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// Every RPC in the descriptor set has a policy, and no policy names a missing RPC.
    #[test]
    fn every_method_has_a_policy() {
        let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap_or_default();
        let declared: BTreeSet<String> = set
            .file
            .iter()
            .filter(|f| f.package() == "trainertribe.content.v1")
            .flat_map(|f| f.service.iter().map(move |s| (f.package().to_string(), s)))
            .flat_map(|(pkg, s)| s.method.iter().map(move |m| format!("/{pkg}.{}/{}", s.name(), m.name())))
            .collect();
        assert!(!declared.is_empty(), "descriptor set has the content service");
        let policies = policies();
        let covered: BTreeSet<String> = policies.paths().map(str::to_string).collect();
        assert_eq!(declared, covered);
    }
}
