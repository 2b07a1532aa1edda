//! Who may see what: a non-participant gets NOT_FOUND (exactly as for an unknown id) on
//! every conversation RPC and sees nothing on their stream; a removed member loses
//! access at once, including their open stream; every method has a policy; hostile
//! tokens are refused.

use std::time::Duration;

use crate::common::*;
use prost::Message as _;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use tribe_testkit::authed;

#[tokio::test]
async fn a_non_participant_cannot_read_send_search_mark_or_stream_a_conversation() {
    let env = start().await;
    let (ana, ben, eve) = (env.user(), env.user(), env.user());
    let conversation = env.direct(&ana, &ben).await;
    let secret = env.send(&ana, &conversation, "the secret plan").await;
    let mut eve_stream = env.open_stream(&eve).await;
    let mut c = env.client.clone();
    let unknown = uuid::Uuid::now_v7().to_string();

    for id in [conversation.clone(), unknown] {
        let s = c
            .get_conversation(req(
                &eve,
                pb::GetConversationRequest {
                    conversation_id: id.clone(),
                },
            ))
            .await
            .unwrap_err();
        assert_status(&s, Code::NotFound, Some("NOT_FOUND"));
        let s = c
            .list_messages(req(
                &eve,
                pb::ListMessagesRequest {
                    conversation_id: id.clone(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_status(&s, Code::NotFound, Some("NOT_FOUND"));
        let send = pb::SendMessageRequest {
            conversation_id: id.clone(),
            text: "hi".into(),
            request_id: "r1".into(),
            ..Default::default()
        };
        assert_status(
            &c.send_message(req(&eve, send)).await.unwrap_err(),
            Code::NotFound,
            Some("NOT_FOUND"),
        );
        let search = pb::SearchMessagesRequest {
            query: "secret".into(),
            conversation_id: id.clone(),
            ..Default::default()
        };
        assert_status(
            &c.search_messages(req(&eve, search)).await.unwrap_err(),
            Code::NotFound,
            Some("NOT_FOUND"),
        );
        let mark = pb::MarkReadRequest {
            conversation_id: id.clone(),
            message_id: secret.message_id.clone(),
        };
        assert_status(
            &c.mark_read(req(&eve, mark)).await.unwrap_err(),
            Code::NotFound,
            Some("NOT_FOUND"),
        );
        let typing = pb::SetTypingRequest {
            conversation_id: id.clone(),
            typing: true,
        };
        assert_status(
            &c.set_typing(req(&eve, typing)).await.unwrap_err(),
            Code::NotFound,
            Some("NOT_FOUND"),
        );
    }
    // Search across "all my conversations" never reaches into others'.
    let all = c
        .search_messages(req(
            &eve,
            pb::SearchMessagesRequest {
                query: "secret".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert!(all.into_inner().messages.is_empty());
    let inbox = c
        .list_conversations(req(&eve, pb::ListConversationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(inbox.conversations.is_empty());
    env.send(&ben, &conversation, "another secret").await;
    assert_quiet(
        &mut eve_stream,
        Duration::from_millis(800),
        "a stranger's stream",
    )
    .await;
    // Nothing was stored for the stranger's attempts.
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 2);
}

#[tokio::test]
async fn a_removed_member_loses_access_immediately_including_an_open_stream() {
    let env = start().await;
    let (owner, ana, ben) = (env.user(), env.user(), env.user());
    let g = env.group(&owner, &[&ana, &ben]).await;
    let mut ana_stream = env.open_stream(&ana).await;
    let first = env.send(&owner, &g, "welcome").await;
    let (event, _) = wait_for(&mut ana_stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Message(_))
    })
    .await;
    assert!(matches!(event, Event::Message(m) if m.message_id == first.message_id));

    let mut c = env.client.clone();
    c.remove_group_member(req(
        &owner,
        pb::RemoveGroupMemberRequest {
            conversation_id: g.clone(),
            user_id: ana.id.clone(),
        },
    ))
    .await
    .unwrap();
    // The last event about the group: her removal.
    let (event, _) = wait_for(&mut ana_stream, Duration::from_secs(10), |e| {
        matches!(e, Event::MembershipChange(_))
    })
    .await;
    let Event::MembershipChange(change) = event else {
        unreachable!()
    };
    assert_eq!(change.r#type, pb::MembershipChangeType::Removed as i32);
    assert_eq!(change.user.unwrap().user_id, ana.id);

    env.send(&ben, &g, "after she left").await;
    assert_quiet(
        &mut ana_stream,
        Duration::from_millis(800),
        "a removed member's stream",
    )
    .await;
    let s = c
        .list_messages(req(
            &ana,
            pb::ListMessagesRequest {
                conversation_id: g.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
    let s = c
        .send_message(req(
            &ana,
            pb::SendMessageRequest {
                conversation_id: g.clone(),
                text: "hello?".into(),
                request_id: "x".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
    let s = c
        .leave_group(req(
            &ana,
            pb::LeaveGroupRequest {
                conversation_id: g.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
}

#[tokio::test]
async fn hostile_tokens_and_service_credentials_are_refused() {
    let env = start().await;
    let ana = env.user();
    let mut c = env.client.clone();
    for (name, token) in tribe_testkit::hostile_tokens(&env.keys, &ana.id, "opaque-refresh-token") {
        let s = c
            .get_unread_counts(authed(pb::GetUnreadCountsRequest {}, &token))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated, "{name}: {s:?}");
        let s = c
            .stream_events(authed(pb::StreamEventsRequest {}, &token))
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated, "{name} on the stream");
    }
    let s = c
        .get_unread_counts(tonic::Request::new(pb::GetUnreadCountsRequest {}))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated, "no token");
    let service = env.keys.service_token();
    let s = c
        .create_conversation(authed(
            pb::CreateConversationRequest {
                user_id: ana.id.clone(),
            },
            &service,
        ))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
}

#[test]
fn every_messaging_method_has_a_policy() {
    let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap();
    let service = set
        .file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f.package(), s)))
        .find(|(package, s)| format!("{package}.{}", s.name()) == tribe_messaging::policy::SERVICE)
        .map(|(_, s)| s)
        .expect("MessagingService in descriptors");
    let policies = tribe_messaging::policy::policies();
    let declared: Vec<&str> = policies.paths().collect();
    for method in &service.method {
        let path = format!("/{}/{}", tribe_messaging::policy::SERVICE, method.name());
        assert!(policies.get(&path).is_some(), "{path} has no policy");
        if method.server_streaming() {
            assert!(
                tribe_messaging::policy::SURFACE
                    .streaming
                    .contains(&method.name()),
                "{path} must be declared streaming"
            );
        }
    }
    assert_eq!(
        declared.len(),
        service.method.len(),
        "no policy for a method that does not exist"
    );
    assert_eq!(
        policies.get("/trainertribe.messaging.v1.MessagingService/NotAMethod"),
        None,
        "unknown methods are denied"
    );
    // The edge reads its streaming routes (no timeout) from the surface: exactly the
    // server-streaming methods.
    let streaming: Vec<&str> = service
        .method
        .iter()
        .filter(|m| m.server_streaming())
        .map(|m| m.name())
        .collect();
    assert_eq!(
        tribe_messaging::policy::SURFACE.streaming,
        streaming.as_slice(),
        "streaming methods as the descriptors say"
    );
}
