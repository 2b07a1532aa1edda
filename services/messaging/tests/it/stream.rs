//! The live event stream over native gRPC: order per conversation, typing, receipts,
//! presence, a slow reader disconnected, and logout (UserSessionsRevoked on Kafka)
//! ending the user's streams.

use std::time::Duration;

use crate::common::*;
use tonic::Code;
use tribe_kit::config::{DEFAULT_AUDIENCE, ExposeSecret};
use tribe_proto::events::v1::UserSessionsRevoked;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn messages_arrive_in_order_with_typing_receipts_and_presence() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut ana_stream = env.open_stream(&ana).await;
    let mut ben_stream = env.open_stream(&ben).await;
    let (event, _) = wait_for(&mut ana_stream, WAIT, |e| matches!(e, Event::Presence(_))).await;
    let Event::Presence(p) = event else {
        unreachable!()
    };
    assert!(
        p.online && p.user_id == ben.id,
        "ana sees her contact come online: {p:?}"
    );

    let mut c = env.client.clone();
    c.set_typing(req(
        &ana,
        pb::SetTypingRequest {
            conversation_id: conv.clone(),
            typing: true,
        },
    ))
    .await
    .unwrap();
    let event = next_event(&mut ben_stream, WAIT).await;
    let Event::Typing(t) = event else {
        panic!("expected typing, got {event:?}")
    };
    assert!(t.typing && t.user.unwrap().user_id == ana.id && t.expire_time.is_some());

    let mut sent = Vec::new();
    for i in 0..20 {
        sent.push(env.send(&ana, &conv, &format!("set {i}")).await.message_id);
    }
    // The first message puts the conversation in ben's inbox and clears typing; the
    // messages arrive in send order.
    let mut received = Vec::new();
    let mut typing_stopped = false;
    while received.len() < sent.len() {
        match next_event(&mut ben_stream, WAIT).await {
            Event::Message(m) => received.push(m.message_id),
            Event::Typing(t) if !t.typing => typing_stopped = true,
            Event::Conversation(c) => assert_eq!(c.conversation_id, conv),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(typing_stopped, "sending clears the typing indicator");
    assert_eq!(received, sent, "in order");
    // The sender's own stream gets them too (other devices).
    let (first_own, _) = wait_for(&mut ana_stream, WAIT, |e| matches!(e, Event::Message(_))).await;
    assert!(matches!(first_own, Event::Message(m) if m.message_id == sent[0]));
    assert_eq!(env.unread(&ben).await.unread_message_count, 20);

    c.mark_read(req(
        &ben,
        pb::MarkReadRequest {
            conversation_id: conv.clone(),
            message_id: sent[19].clone(),
        },
    ))
    .await
    .unwrap();
    let (event, _) = wait_for(&mut ana_stream, WAIT, |e| {
        matches!(e, Event::ReadReceipt(_))
    })
    .await;
    let Event::ReadReceipt(r) = event else {
        unreachable!()
    };
    assert_eq!(
        (r.user_id.as_str(), r.last_read_message_id.as_str()),
        (ben.id.as_str(), sent[19].as_str())
    );
    assert_eq!(env.unread(&ben).await.unread_message_count, 0);

    let presence = c
        .batch_get_presence(req(
            &ana,
            pb::BatchGetPresenceRequest {
                user_ids: vec![ben.id.clone(), env.user().id],
            },
        ))
        .await
        .unwrap();
    let presence = presence.into_inner().presences;
    assert!(presence[0].online, "a contact's presence is visible");
    assert!(!presence[1].online, "a stranger is reported offline");
    drop(ben_stream);
    let (event, _) = wait_for(
        &mut ana_stream,
        WAIT,
        |e| matches!(e, Event::Presence(p) if !p.online),
    )
    .await;
    let Event::Presence(p) = event else {
        unreachable!()
    };
    assert!(p.last_seen_time.is_some());
    let s = c
        .batch_get_presence(req(&ana, pb::BatchGetPresenceRequest { user_ids: vec![] }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["user_ids"]);
}

#[tokio::test]
async fn a_slow_reader_is_disconnected_instead_of_buffering_without_bound() {
    let env = start().await;
    let ana = env.user();
    let mut stream = env.open_stream(&ana).await;
    // Feed the real live channel far faster than anyone reads: several MB of events.
    let event = pb::StreamEventsResponse {
        event: Some(Event::Message(pb::Message {
            text: "x".repeat(4000),
            conversation_id: "c".into(),
            ..Default::default()
        })),
    };
    let mut frame = vec![0u8];
    prost::Message::encode(&event, &mut frame).unwrap();
    let redis = redis::Client::open(env.config.redis.url.expose_secret()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let channel = format!("{}live:{}", env.config.redis.prefix, ana.id);
    let mut pipe = redis::pipe();
    for _ in 0..3000 {
        pipe.cmd("PUBLISH").arg(&channel).arg(&frame).ignore();
    }
    let _: () = pipe.query_async(&mut conn).await.unwrap();
    let mut delivered = 0;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), stream.message())
            .await
            .expect("the stream ends")
        {
            Ok(Some(_)) => delivered += 1,
            Ok(None) => panic!("ended without a status after {delivered} events"),
            Err(status) => break status,
        }
    };
    assert_status(&status, Code::ResourceExhausted, Some("SLOW_CONSUMER"));
    assert!(
        delivered < 3000,
        "the backlog was dropped, not delivered: {delivered}"
    );
}

#[tokio::test]
async fn revoking_a_session_ends_its_streams_and_only_those() {
    let env = start().await;
    let ana = env.user();
    let ben = env.user();
    let conv = env.direct(&ana, &ben).await;
    let mut laptop = env.open_stream(&ana).await; // session "test-session"
    let (phone_token, _) = env
        .keys
        .signer()
        .access_token(
            DEFAULT_AUDIENCE,
            &ana.id,
            vec!["user".into()],
            "free",
            "phone",
            Duration::from_secs(900),
        )
        .unwrap();
    let phone_user = User {
        id: ana.id.clone(),
        token: phone_token,
    };
    let mut phone = env.open_stream(&phone_user).await;

    let revoke = |session: &str| {
        tribe_kit::outbox::envelope(
            "user",
            &ana.id,
            &ana.id,
            Payload::UserSessionsRevoked(UserSessionsRevoked {
                user_id: ana.id.clone(),
                session_id: session.into(),
            }),
        )
    };
    env.produce("tribe.user.v1", &[revoke("phone")]).await;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(30), phone.message())
            .await
            .expect("phone stream ends")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("ended without status"),
            Err(status) => break status,
        }
    };
    assert_status(&status, Code::Unauthenticated, Some("TOKEN_REVOKED"));
    let m = env.send(&ben, &conv, "still here?").await;
    let (event, _) = wait_for(&mut laptop, WAIT, |e| matches!(e, Event::Message(_))).await;
    assert!(
        matches!(event, Event::Message(x) if x.message_id == m.message_id),
        "the other session keeps streaming"
    );

    env.produce("tribe.user.v1", &[revoke("")]).await;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(30), laptop.message())
            .await
            .expect("laptop stream ends")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("ended without status"),
            Err(status) => break status,
        }
    };
    assert_status(&status, Code::Unauthenticated, Some("TOKEN_REVOKED"));
}

#[tokio::test]
async fn group_events_reach_members_and_a_user_is_limited_to_ten_streams() {
    let env = start().await;
    let (owner, ana, ben) = (env.user(), env.user(), env.user());
    let mut ana_stream = env.open_stream(&ana).await;
    let g = env.group(&owner, &[&ana]).await;
    let (event, _) = wait_for(&mut ana_stream, WAIT, |e| {
        matches!(e, Event::Conversation(_))
    })
    .await;
    assert!(
        matches!(event, Event::Conversation(c) if c.conversation_id == g),
        "the new group appears live"
    );
    let mut c = env.client.clone();
    c.add_group_member(req(
        &owner,
        pb::AddGroupMemberRequest {
            conversation_id: g.clone(),
            user_id: ben.id.clone(),
        },
    ))
    .await
    .unwrap();
    let (event, _) = wait_for(&mut ana_stream, WAIT, |e| {
        matches!(e, Event::MembershipChange(_))
    })
    .await;
    let Event::MembershipChange(change) = event else {
        unreachable!()
    };
    assert_eq!(change.r#type, pb::MembershipChangeType::Added as i32);
    assert_eq!(change.user.unwrap().user_id, ben.id);

    let mut streams = Vec::new();
    for _ in 0..10 {
        streams.push(env.open_stream(&ben).await);
    }
    let Err(s) = c.stream_events(req(&ben, pb::StreamEventsRequest {})).await else {
        panic!("the eleventh stream is refused")
    };
    assert_status(&s, Code::ResourceExhausted, Some("TOO_MANY_STREAMS"));
}

async fn ended(
    stream: &mut tonic::Streaming<pb::StreamEventsResponse>,
    wait: Duration,
) -> tonic::Status {
    loop {
        match tokio::time::timeout(wait, stream.message())
            .await
            .expect("the stream ends in time")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("ended without a status"),
            Err(status) => return status,
        }
    }
}

#[tokio::test]
async fn a_stream_ends_when_its_access_token_expires() {
    let env = start().await;
    let id = uuid::Uuid::now_v7().to_string();
    let (token, _) = env
        .keys
        .signer()
        .access_token(
            DEFAULT_AUDIENCE,
            &id,
            vec!["user".into()],
            "free",
            "s",
            Duration::from_secs(2),
        )
        .unwrap();
    let short = User { id, token };
    let mut stream = env.open_stream(&short).await;
    let status = ended(&mut stream, Duration::from_secs(15)).await;
    assert_status(&status, Code::Unauthenticated, Some("TOKEN_EXPIRED"));
}

#[tokio::test]
async fn draining_ends_open_streams_with_unavailable() {
    let env = start().await;
    let ana = env.user();
    let mut stream = env.open_stream(&ana).await;
    let Env {
        server,
        client: _client,
        db: _db,
        ..
    } = env;
    let stopping = tokio::spawn(server.shutdown());
    let status = ended(&mut stream, Duration::from_secs(10)).await;
    assert_status(&status, Code::Unavailable, Some("DRAINING"));
    tokio::time::timeout(Duration::from_secs(15), stopping)
        .await
        .expect("the server stops without waiting for the stream")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn concurrent_senders_in_a_group_are_delivered_in_message_id_order() {
    let env = start().await;
    let (owner, ana, ben) = (env.user(), env.user(), env.user());
    let g = env.group(&owner, &[&ana, &ben]).await;
    let mut stream = env.open_stream(&owner).await;
    let burst = |who: User| {
        let env_client = env.client.clone();
        let g = g.clone();
        async move {
            let mut c = env_client;
            for i in 0..15 {
                let r = pb::SendMessageRequest {
                    conversation_id: g.clone(),
                    text: format!("{i}"),
                    request_id: format!("{}-{i}", who.id),
                    ..Default::default()
                };
                c.send_message(req(&who, r)).await.unwrap();
            }
        }
    };
    futures::future::join(burst(ana.clone()), burst(ben.clone())).await;
    let mut received = Vec::new();
    while received.len() < 30 {
        if let Event::Message(m) = next_event(&mut stream, WAIT).await {
            received.push(m.message_id);
        }
    }
    let mut sorted = received.clone();
    sorted.sort();
    assert_eq!(
        received, sorted,
        "one conversation's messages arrive in message id order"
    );
}
