//! The service verifies every token itself (internal calls bypass Envoy): the hostile
//! token corpus is refused, policies deny by default, and every method has a policy.

use crate::common::*;
use prost::Message;
use tonic::Code;
use tribe_proto::user::v1 as pb;
use tribe_testkit::{authed, hostile_tokens};

#[tokio::test]
async fn hostile_tokens_are_unauthenticated_and_change_nothing() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    for (name, token) in hostile_tokens(&env.keys, &ana.id, &ana.refresh) {
        let update = pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                bio: format!("hacked by {name}"),
                ..Default::default()
            }),
            update_mask: mask(&["bio"]),
        };
        let status = env
            .client
            .update_user(authed(update, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {status:?}");
        let status = env
            .client
            .batch_get_users(authed(
                pb::BatchGetUsersRequest {
                    user_ids: vec![ana.id.clone()],
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(
            status.code(),
            Code::Unauthenticated,
            "{name} on an internal method"
        );
    }
    let mut malformed = tonic::Request::new(pb::GetRelationshipsRequest {
        user_ids: vec![ana.id.clone()],
    });
    malformed.metadata_mut().insert(
        "authorization",
        format!("Token {}", ana.access).parse().unwrap(),
    );
    assert_eq!(
        env.client
            .get_relationships(malformed)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );

    let bio: String = sqlx::query_scalar("SELECT bio FROM users")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(bio, "");
}

#[tokio::test]
async fn a_service_credential_cannot_act_as_a_user() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let service = env.keys.service_token();
    let status = env
        .client
        .follow_user(authed(
            pb::FollowUserRequest {
                user_id: ana.id.clone(),
            },
            &service,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[test]
fn every_user_service_method_has_a_policy() {
    let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap();
    let service = set
        .file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f.package(), s)))
        .find(|(package, s)| format!("{package}.{}", s.name()) == tribe_user::policy::SERVICE)
        .map(|(_, s)| s)
        .expect("UserService in descriptors");
    let policies = tribe_user::policy::policies();
    let declared: Vec<&str> = policies.paths().collect();
    for method in &service.method {
        let path = format!("/{}/{}", tribe_user::policy::SERVICE, method.name());
        assert!(policies.get(&path).is_some(), "{path} has no policy");
    }
    assert_eq!(
        declared.len(),
        service.method.len(),
        "no policy for a method that does not exist"
    );
    for internal in tribe_user::policy::SURFACE.internal() {
        let path = format!("/{}/{internal}", tribe_user::policy::SERVICE);
        assert_eq!(policies.get(&path), Some(tribe_kit::auth::Policy::Internal));
    }
    assert_eq!(
        policies.get("/trainertribe.user.v1.UserService/NotAMethod"),
        None,
        "unknown methods are denied"
    );
}
