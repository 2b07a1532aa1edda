//! Groups: creation (idempotent), updates by owner and admins, members, roles, the
//! 256-member limit and leaving.

use crate::common::*;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}

#[tokio::test]
async fn a_group_is_created_once_per_request_id_and_updated_by_owner_or_admins() {
    let env = start().await;
    let (owner, ana, ben) = (user(&env), user(&env), user(&env));
    let mut c = env.client.clone();
    let create = pb::CreateGroupRequest {
        name: "  Morning runners ".into(),
        description: "5k before work".into(),
        image_url: "https://cdn.example.com/run.png".into(),
        member_ids: vec![ana.id.clone(), ben.id.clone()],
        request_id: "group-1".into(),
    };
    let first = c
        .create_group(req(&owner, create.clone()))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    let again = c
        .create_group(req(&owner, create.clone()))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert_eq!(
        first.conversation_id, again.conversation_id,
        "a retry returns the first group"
    );
    assert_eq!(first.name, "Morning runners");
    assert_eq!(first.member_count, 3);
    assert_eq!(first.viewer_role, pb::MemberRole::Owner as i32);
    assert_eq!(
        first.participants[0].user.as_ref().unwrap().user_id,
        owner.id,
        "owner first"
    );
    let s = c
        .create_group(req(
            &owner,
            pb::CreateGroupRequest {
                name: "Other".into(),
                ..create.clone()
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    let groups = c
        .list_groups(req(&ana, pb::ListGroupsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(groups.conversations.len(), 1, "one group, not two");
    let g = first.conversation_id.clone();

    let update = |name: &str| pb::UpdateGroupRequest {
        conversation: Some(pb::Conversation {
            conversation_id: g.clone(),
            name: name.into(),
            ..Default::default()
        }),
        update_mask: mask(&["name"]),
    };
    let s = c
        .update_group(req(&ana, update("Ana's group")))
        .await
        .unwrap_err();
    assert_status(&s, Code::PermissionDenied, None);
    c.set_group_member_role(req(
        &owner,
        pb::SetGroupMemberRoleRequest {
            conversation_id: g.clone(),
            user_id: ana.id.clone(),
            role: pb::MemberRole::Admin as i32,
        },
    ))
    .await
    .unwrap();
    let updated = c
        .update_group(req(&ana, update("Evening runners")))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert_eq!(updated.name, "Evening runners");
    assert_eq!(
        updated.description, "5k before work",
        "unmasked fields unchanged"
    );
    let s = c
        .update_group(req(
            &owner,
            pb::UpdateGroupRequest {
                update_mask: mask(&["member_count", "name"]),
                ..update("")
            },
        ))
        .await
        .unwrap_err();
    let fields = violated_fields(&s);
    assert!(
        fields.contains(&"update_mask".to_string())
            && fields.contains(&"conversation.name".to_string()),
        "{fields:?}"
    );
    let s = c
        .update_group(req(
            &owner,
            pb::UpdateGroupRequest {
                update_mask: None,
                ..update("x")
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["update_mask"]);
    let stranger = user(&env);
    assert_status(
        &c.update_group(req(&stranger, update("mine")))
            .await
            .unwrap_err(),
        Code::NotFound,
        None,
    );
}

#[tokio::test]
async fn bad_group_input_and_adding_a_member_twice() {
    let env = start().await;
    let (owner, ana) = (user(&env), user(&env));
    let mut c = env.client.clone();
    let s = c
        .create_group(req(
            &owner,
            pb::CreateGroupRequest {
                name: String::new(),
                description: "d".repeat(501),
                image_url: "ftp://x".into(),
                member_ids: vec![
                    ana.id.clone(),
                    ana.id.clone(),
                    owner.id.clone(),
                    "bad".into(),
                ],
                request_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&s);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "description",
            "image_url",
            "member_ids[1]",
            "member_ids[2]",
            "member_ids[3]",
            "name",
            "request_id"
        ],
        "a duplicate member, the creator and a malformed id are each named"
    );

    let g = group(&env, &owner, &[]).await;
    let add = pb::AddGroupMemberRequest {
        conversation_id: g.clone(),
        user_id: ana.id.clone(),
    };
    let first = c
        .add_group_member(req(&owner, add.clone()))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(first.user.unwrap().user_id, ana.id);
    let twice = c
        .add_group_member(req(&owner, add.clone()))
        .await
        .unwrap_err();
    assert_status(&twice, Code::AlreadyExists, Some("ALREADY_MEMBER"));
    let members = c
        .list_group_members(req(
            &owner,
            pb::ListGroupMembersRequest {
                conversation_id: g.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        members.into_inner().members.len(),
        2,
        "no second membership"
    );
    let added: i64 =
        sqlx::query_scalar("SELECT count(*) FROM outbox WHERE topic = 'tribe.messaging.v1'")
            .fetch_one(&env.db.pool)
            .await
            .unwrap();
    assert_eq!(
        added, 2,
        "ConversationCreated and one GroupMembershipChanged"
    );
    let s = c
        .add_group_member(req(
            &ana,
            pb::AddGroupMemberRequest {
                conversation_id: g.clone(),
                user_id: user(&env).id,
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::PermissionDenied, None);
    let ben = user(&env);
    let d = direct(&env, &owner, &ben).await;
    let s = c
        .add_group_member(req(
            &owner,
            pb::AddGroupMemberRequest {
                conversation_id: d,
                user_id: ana.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::FailedPrecondition, Some("NOT_A_GROUP"));
}

#[tokio::test]
async fn a_group_holds_at_most_256_members() {
    a_group_holds_at_most_256_members_on(&start().await).await;
}

/// The same on the CQL message store (member_count by compare-and-set).
#[tokio::test]
async fn a_group_holds_at_most_256_members_on_cql() {
    let env = start_cql().await;
    a_group_holds_at_most_256_members_on(&env).await;
    assert_stored_on_cql(&env).await;
}

async fn a_group_holds_at_most_256_members_on(env: &Env) {
    let owner = user(env);
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
    let (owner, admin, ana, ben) = (user(&env), user(&env), user(&env), user(&env));
    let g = group(&env, &owner, &[&admin, &ana, &ben]).await;
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

#[tokio::test]
async fn creating_groups_is_rate_limited_but_retries_replay() {
    let env = start_with(|c| c.limits.groups_per_hour = 2).await;
    let owner = user(&env);
    let mut c = env.client.clone();
    let create = |rid: &str| pb::CreateGroupRequest {
        name: "g".into(),
        request_id: rid.into(),
        ..Default::default()
    };
    c.create_group(req(&owner, create("a"))).await.unwrap();
    c.create_group(req(&owner, create("b"))).await.unwrap();
    c.create_group(req(&owner, create("a")))
        .await
        .expect("a retry replays without counting");
    let s = c.create_group(req(&owner, create("c"))).await.unwrap_err();
    assert_status(&s, Code::ResourceExhausted, Some("RATE_LIMITED"));
    let groups = c
        .list_groups(req(&owner, pb::ListGroupsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(groups.conversations.len(), 2);
}

#[tokio::test]
async fn a_retry_after_the_request_record_was_lost_writes_the_same_group() {
    let env = start().await;
    let (owner, ana) = (user(&env), user(&env));
    let mut c = env.client.clone();
    let create = pb::CreateGroupRequest {
        name: "Lifters".into(),
        member_ids: vec![ana.id.clone()],
        request_id: "crash-1".into(),
        ..Default::default()
    };
    let first = c
        .create_group(req(&owner, create.clone()))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    // As if the process died after the store write and before the request record
    // committed: the record is gone, the group is there.
    let lost = sqlx::query("DELETE FROM idempotency_keys WHERE method = 'CreateGroup'")
        .execute(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(lost.rows_affected(), 1);
    let retried = c
        .create_group(req(&owner, create.clone()))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert_eq!(
        retried.conversation_id, first.conversation_id,
        "the retry lands on the same group"
    );
    let groups = c
        .list_groups(req(&ana, pb::ListGroupsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(groups.conversations.len(), 1, "no stray second group");
    assert_eq!(groups.conversations[0].member_count, 2);
    // Another caller's identical request id is another group.
    let other = c
        .create_group(req(
            &ana,
            pb::CreateGroupRequest {
                member_ids: vec![],
                ..create
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        other.conversation.unwrap().conversation_id,
        first.conversation_id
    );
}
