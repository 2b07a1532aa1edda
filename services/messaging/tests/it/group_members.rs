//! Group members: the 256-member limit and paging through members, roles, removal and
//! leaving (ownership passes on; the last member leaving ends the group).

use crate::common::*;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;

#[tokio::test]
async fn a_group_holds_at_most_256_members() {
    a_group_holds_at_most_256_members_on(&start().await).await;
}

/// The same on the CQL message store (member_count by compare-and-set).
#[tokio::test]
async fn a_group_holds_at_most_256_members_on_cql() {
    let env = start_cql().await;
    a_group_holds_at_most_256_members_on(&env).await;
    env.assert_stored_on_cql().await;
}

async fn a_group_holds_at_most_256_members_on(env: &Env) {
    let owner = env.user();
    let mut c = env.client.clone();
    let ids: Vec<String> = (0..256).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let s = c
        .create_group(req(
            &owner,
            pb::CreateGroupRequest {
                name: "Too big".into(),
                member_ids: ids.clone(),
                request_id: "big".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["member_ids"]);
    let full = c
        .create_group(req(
            &owner,
            pb::CreateGroupRequest {
                name: "Full".into(),
                member_ids: ids[..255].to_vec(),
                request_id: "full".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert_eq!(full.member_count, 256);
    assert_eq!(full.participants.len(), 20, "the embedded list is capped");
    let s = c
        .add_group_member(req(
            &owner,
            pb::AddGroupMemberRequest {
                conversation_id: full.conversation_id.clone(),
                user_id: ids[255].clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::FailedPrecondition, Some("GROUP_FULL"));
    // Paging through the members sees each once.
    let mut seen = std::collections::HashSet::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_group_members(req(
                &owner,
                pb::ListGroupMembersRequest {
                    conversation_id: full.conversation_id.clone(),
                    page_size: 100,
                    page_token: token,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        for m in page.members {
            assert!(
                seen.insert(m.user.unwrap().user_id),
                "a member listed twice"
            );
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen.len(), 256);
}

#[tokio::test]
async fn roles_removal_and_leaving_follow_the_rules() {
    let env = start().await;
    let (owner, admin, ana, ben) = (env.user(), env.user(), env.user(), env.user());
    let g = env.group(&owner, &[&admin, &ana, &ben]).await;
    let mut c = env.client.clone();
    let role = |who: &User, role: pb::MemberRole| pb::SetGroupMemberRoleRequest {
        conversation_id: g.clone(),
        user_id: who.id.clone(),
        role: role as i32,
    };
    c.set_group_member_role(req(&owner, role(&admin, pb::MemberRole::Admin)))
        .await
        .unwrap();
    let s = c
        .set_group_member_role(req(&admin, role(&ana, pb::MemberRole::Admin)))
        .await
        .unwrap_err();
    assert_status(&s, Code::PermissionDenied, None);
    let s = c
        .set_group_member_role(req(&owner, role(&owner, pb::MemberRole::Member)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["user_id"]);
    let s = c
        .set_group_member_role(req(&owner, role(&ana, pb::MemberRole::Unspecified)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["role"]);

    let remove = |who: &User| pb::RemoveGroupMemberRequest {
        conversation_id: g.clone(),
        user_id: who.id.clone(),
    };
    assert_status(
        &c.remove_group_member(req(&ana, remove(&ben)))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    assert_status(
        &c.remove_group_member(req(&admin, remove(&owner)))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    c.remove_group_member(req(&admin, remove(&ben)))
        .await
        .unwrap();
    c.remove_group_member(req(&admin, remove(&ben)))
        .await
        .expect("removing a non-member changes nothing");

    // The owner leaves: the longest-standing admin takes over.
    c.leave_group(req(
        &owner,
        pb::LeaveGroupRequest {
            conversation_id: g.clone(),
        },
    ))
    .await
    .unwrap();
    let view = c
        .get_conversation(req(
            &admin,
            pb::GetConversationRequest {
                conversation_id: g.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let view = view.conversation.unwrap();
    assert_eq!(view.viewer_role, pb::MemberRole::Owner as i32);
    assert_eq!(view.member_count, 2);
    assert_status(
        &c.get_conversation(req(
            &owner,
            pb::GetConversationRequest {
                conversation_id: g.clone(),
            },
        ))
        .await
        .unwrap_err(),
        Code::NotFound,
        None,
    );
    // Transferring ownership makes the caller an admin.
    let moved = c
        .set_group_member_role(req(&admin, role(&ana, pb::MemberRole::Owner)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(moved.member.unwrap().role, pb::MemberRole::Owner as i32);
    let view = c
        .get_conversation(req(
            &admin,
            pb::GetConversationRequest {
                conversation_id: g.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        view.conversation.unwrap().viewer_role,
        pb::MemberRole::Admin as i32
    );
    // The last members leave: the group is gone.
    c.remove_group_member(req(&admin, remove(&admin)))
        .await
        .unwrap();
    c.leave_group(req(
        &ana,
        pb::LeaveGroupRequest {
            conversation_id: g.clone(),
        },
    ))
    .await
    .unwrap();
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}
