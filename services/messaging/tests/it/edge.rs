//! End to end through the real Envoy edge: two users hold gRPC-Web event streams over
//! HTTP/1.1 (as browsers and React Native use them) while they chat through gRPC-Web
//! unary calls; messages arrive in order with typing and receipts, and unread counts go
//! up and back to zero.

use std::time::Duration;

use crate::common::grpc_web_stream::{self, Item, WebStream};
use crate::common::*;
use tribe_infra::envoy::Upstream;
use tribe_messaging::policy;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use tribe_testkit::{TestEdge, grpc_web};

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

async fn edge(env: &Env) -> TestEdge {
    let upstream = Upstream::for_surface(&policy::SURFACE, env.server.addr);
    let edge = TestEdge::start(upstream, &env.keys.jwks_path())
        .await
        .expect("start envoy");
    let probe_user = env.user();
    let probe = edge
        .first_answer::<_, pb::GetUnreadCountsResponse>(
            &path("GetUnreadCounts"),
            &pb::GetUnreadCountsRequest {},
            Some(&probe_user.token),
        )
        .await;
    assert!(probe.is_ok(), "{:?}", probe.err());
    edge
}

async fn call<Req: prost::Message, Resp: prost::Message + Default>(
    edge: &TestEdge,
    method: &str,
    who: &User,
    request: &Req,
) -> Resp {
    grpc_web::call::<_, Resp>(&edge.url(), &path(method), request, Some(&who.token))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{method} through the edge: {e:?}"))
}

async fn next(stream: &mut WebStream) -> Event {
    loop {
        let item = tokio::time::timeout(
            Duration::from_secs(15),
            stream.next::<pb::StreamEventsResponse>(),
        )
        .await
        .expect("an event in time");
        match item.unwrap() {
            Some(Item::Message(pb::StreamEventsResponse {
                event: Some(Event::Heartbeat(_)),
            })) => continue,
            Some(Item::Message(pb::StreamEventsResponse { event: Some(event) })) => return event,
            other => panic!("stream ended: {other:?}"),
        }
    }
}

#[tokio::test]
async fn two_users_chat_over_grpc_web_streams_through_envoy() {
    let env = start().await;
    let edge = edge(&env).await;
    let (ana, ben) = (env.user(), env.user());
    let conv: pb::CreateConversationResponse = call(
        &edge,
        "CreateConversation",
        &ana,
        &pb::CreateConversationRequest {
            user_id: ben.id.clone(),
        },
    )
    .await;
    let conv = conv.conversation.unwrap().conversation_id;

    let open = |who: &User| {
        let (url, token) = (edge.url(), who.token.clone());
        async move {
            grpc_web_stream::open(
                &url,
                &path("StreamEvents"),
                &pb::StreamEventsRequest {},
                &token,
            )
            .await
            .unwrap()
        }
    };
    let mut ana_stream = open(&ana).await;
    let mut ben_stream = open(&ben).await;
    for s in [&mut ana_stream, &mut ben_stream] {
        let first = tokio::time::timeout(
            Duration::from_secs(15),
            s.next::<pb::StreamEventsResponse>(),
        )
        .await
        .unwrap()
        .unwrap();
        assert!(
            matches!(
                first,
                Some(Item::Message(pb::StreamEventsResponse {
                    event: Some(Event::Heartbeat(_))
                }))
            ),
            "{first:?}"
        );
    }

    let _: pb::SetTypingResponse = call(
        &edge,
        "SetTyping",
        &ana,
        &pb::SetTypingRequest {
            conversation_id: conv.clone(),
            typing: true,
        },
    )
    .await;
    let mut sent = Vec::new();
    for i in 0..5 {
        let r: pb::SendMessageResponse = call(
            &edge,
            "SendMessage",
            &ana,
            &pb::SendMessageRequest {
                conversation_id: conv.clone(),
                text: format!("rep {i}"),
                request_id: format!("web-{i}"),
                ..Default::default()
            },
        )
        .await;
        sent.push(r.message.unwrap().message_id);
    }
    let mut received = Vec::new();
    let mut typing = Vec::new();
    while received.len() < sent.len() {
        match next(&mut ben_stream).await {
            Event::Message(m) => received.push(m.message_id),
            Event::Typing(t) => typing.push(t.typing),
            Event::Presence(_) | Event::Conversation(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(received, sent, "in order through the edge");
    assert_eq!(
        typing,
        vec![true, false],
        "typing, then cleared by the first message"
    );
    let counts: pb::GetUnreadCountsResponse = call(
        &edge,
        "GetUnreadCounts",
        &ben,
        &pb::GetUnreadCountsRequest {},
    )
    .await;
    assert_eq!(counts.unread_counts.unwrap().unread_message_count, 5);

    let _: pb::MarkReadResponse = call(
        &edge,
        "MarkRead",
        &ben,
        &pb::MarkReadRequest {
            conversation_id: conv.clone(),
            message_id: sent[4].clone(),
        },
    )
    .await;
    loop {
        if let Event::ReadReceipt(r) = next(&mut ana_stream).await {
            assert_eq!(
                (r.user_id.as_str(), r.last_read_message_id.as_str()),
                (ben.id.as_str(), sent[4].as_str())
            );
            break;
        }
    }
    let counts: pb::GetUnreadCountsResponse = call(
        &edge,
        "GetUnreadCounts",
        &ben,
        &pb::GetUnreadCountsRequest {},
    )
    .await;
    let counts = counts.unread_counts.unwrap();
    assert_eq!(
        (
            counts.unread_message_count,
            counts.unread_conversation_count
        ),
        (0, 0)
    );

    // Without a token the edge refuses the stream.
    let mut anonymous = grpc_web_stream::open(
        &edge.url(),
        &path("StreamEvents"),
        &pb::StreamEventsRequest {},
        "garbage",
    )
    .await
    .unwrap();
    match anonymous.next::<pb::StreamEventsResponse>().await.unwrap() {
        Some(Item::End(code, message)) => assert_eq!(code, 16, "UNAUTHENTICATED: {message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}
