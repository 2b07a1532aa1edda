//! Two instances of the service behind one database and one Redis: a stream held on
//! one instance receives what is sent through the other, and revoking the user's
//! sessions ends it wherever it is; heartbeats keep an idle stream alive.

use std::time::Duration;

use crate::common::*;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use tribe_proto::messaging::v1::stream_events_response::Event;

#[tokio::test]
async fn a_stream_on_one_instance_gets_events_sent_through_another() {
    let env = start().await;
    let second = spawn(env.config.clone()).await;
    let mut other = MessagingServiceClient::new(second.channel().await.unwrap());
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut ben_stream = env.open_stream(&ben).await; // on the first instance
    let m = other
        .send_message(req(
            &ana,
            pb::SendMessageRequest {
                conversation_id: conv.clone(),
                text: "via two".into(),
                request_id: "i2".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    let (event, _) = wait_for(&mut ben_stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Message(_))
    })
    .await;
    assert!(matches!(event, Event::Message(x) if x.message_id == m.message_id));
    other
        .set_typing(req(
            &ana,
            pb::SetTypingRequest {
                conversation_id: conv,
                typing: true,
            },
        ))
        .await
        .unwrap();
    let (event, _) = wait_for(&mut ben_stream, Duration::from_secs(10), |e| {
        matches!(e, Event::Typing(_))
    })
    .await;
    assert!(matches!(event, Event::Typing(t) if t.typing));
    // Presence is shared too: ben's stream on the first instance makes him online for
    // a caller on the second.
    let presence = other
        .batch_get_presence(req(
            &ana,
            pb::BatchGetPresenceRequest {
                user_ids: vec![ben.id.clone()],
            },
        ))
        .await
        .unwrap();
    assert!(presence.into_inner().presences[0].online);

    // Whichever instance consumes the logout, the stream on the other one ends.
    let revoked = tribe_kit::outbox::envelope(
        "user",
        &ben.id,
        &ben.id,
        tribe_proto::events::v1::event::Payload::UserSessionsRevoked(
            tribe_proto::events::v1::UserSessionsRevoked {
                user_id: ben.id.clone(),
                session_id: String::new(),
            },
        ),
    );
    env.produce("tribe.user.v1", &[revoked]).await;
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(30), ben_stream.message())
            .await
            .expect("the stream ends")
        {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("ended without a status"),
            Err(status) => break status,
        }
    };
    assert_status(&status, tonic::Code::Unauthenticated, Some("TOKEN_REVOKED"));
}

#[tokio::test]
async fn an_idle_stream_gets_heartbeats() {
    let env = start_with(|c| c.heartbeat = Duration::from_millis(200)).await;
    let ana = env.user();
    let mut stream = env.open_stream(&ana).await;
    for _ in 0..3 {
        let next = tokio::time::timeout(Duration::from_secs(5), stream.message())
            .await
            .expect("a heartbeat in time")
            .unwrap()
            .unwrap();
        assert!(
            matches!(next.event, Some(Event::Heartbeat(ref h)) if h.server_time.is_some()),
            "{next:?}"
        );
    }
}
