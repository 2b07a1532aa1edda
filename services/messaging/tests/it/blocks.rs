//! Blocks learned from user events: a user who blocked the caller is NOT_FOUND to them,
//! the blocker gets FAILED_PRECONDITION BLOCKED, and messages stop both ways until the
//! block is lifted.

use std::time::Duration;

use crate::common::*;
use tonic::Code;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;

#[tokio::test]
async fn blocks_from_user_events_stop_conversations_and_messages() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let blocked = tribe_kit::outbox::envelope(
        "user",
        &ben.id,
        &ben.id,
        Payload::UserBlocked(ev::UserBlocked {
            blocker_id: ben.id.clone(),
            blocked_id: ana.id.clone(),
        }),
    );
    env.produce("tribe.user.v1", &[blocked]).await;

    let c = env.client.clone();
    let status = eventually(Duration::from_secs(30), "the block to be applied", || {
        let mut c = c.clone();
        let (ana, ben) = (ana.clone(), ben.clone());
        async move {
            c.create_conversation(req(
                &ana,
                pb::CreateConversationRequest {
                    user_id: ben.id.clone(),
                },
            ))
            .await
            .err()
        }
    })
    .await;
    assert_status(&status, Code::NotFound, Some("NOT_FOUND"));
    let mut c = env.client.clone();
    let s = c
        .create_conversation(req(
            &ben,
            pb::CreateConversationRequest {
                user_id: ana.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::FailedPrecondition, Some("BLOCKED"));
    for (from, text) in [(&ana, "hello?"), (&ben, "bye")] {
        let s = c
            .send_message(req(
                from,
                pb::SendMessageRequest {
                    conversation_id: conv.clone(),
                    text: text.into(),
                    request_id: text.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_status(&s, Code::FailedPrecondition, Some("BLOCKED"));
    }

    let lifted = tribe_kit::outbox::envelope(
        "user",
        &ben.id,
        &ben.id,
        Payload::UserUnblocked(ev::UserUnblocked {
            blocker_id: ben.id.clone(),
            blocked_id: ana.id.clone(),
        }),
    );
    env.produce("tribe.user.v1", &[lifted]).await;
    eventually(Duration::from_secs(30), "the block to be lifted", || {
        let mut c = c.clone();
        let ana = ana.clone();
        let conv = conv.clone();
        async move {
            c.send_message(req(
                &ana,
                pb::SendMessageRequest {
                    conversation_id: conv,
                    text: "friends again".into(),
                    request_id: "again".into(),
                    ..Default::default()
                },
            ))
            .await
            .ok()
        }
    })
    .await;
}
