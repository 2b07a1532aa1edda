//! Groups: creation (idempotent, rate limited, replayed after a lost request record),
//! updates by owner and admins, and bad input. Members, roles and leaving are in
//! `group_members`.

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
    let (owner, ana, ben) = (env.user(), env.user(), env.user());
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
    let stranger = env.user();
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
    let (owner, ana) = (env.user(), env.user());
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

    let g = env.group(&owner, &[]).await;
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
                user_id: env.user().id,
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::PermissionDenied, None);
    let ben = env.user();
    let d = env.direct(&owner, &ben).await;
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
async fn creating_groups_is_rate_limited_but_retries_replay() {
    let env = start_with(|c| c.limits.groups_per_hour = 2).await;
    let owner = env.user();
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
    let (owner, ana) = (env.user(), env.user());
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
