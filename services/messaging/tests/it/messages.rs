//! Messages: read receipts and unread counts, search, bad input, idempotent sending
//! (retries and concurrent duplicates) and the send rate limit.

use std::collections::HashSet;

use crate::common::*;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;

#[tokio::test]
async fn read_receipts_move_forward_only_and_unread_counts_return_to_zero() {
    read_receipts_move_forward_only_and_unread_counts_return_to_zero_on(&start().await).await;
}

/// The same on the CQL message store (read positions by compare-and-set).
#[tokio::test]
async fn read_receipts_move_forward_only_and_unread_counts_return_to_zero_on_cql() {
    let env = start_cql().await;
    read_receipts_move_forward_only_and_unread_counts_return_to_zero_on(&env).await;
    env.assert_stored_on_cql().await;
}

async fn read_receipts_move_forward_only_and_unread_counts_return_to_zero_on(env: &Env) {
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let m1 = env.send(&ana, &conv, "one").await;
    let m2 = env.send(&ana, &conv, "two").await;
    let counts = env.unread(&ben).await;
    assert_eq!(
        (
            counts.unread_conversation_count,
            counts.unread_message_count
        ),
        (1, 2)
    );
    assert_eq!(
        env.unread(&ana).await.unread_message_count,
        0,
        "own messages are never unread"
    );

    let mut c = env.client.clone();
    let r = c
        .mark_read(req(
            &ben,
            pb::MarkReadRequest {
                conversation_id: conv.clone(),
                message_id: m2.message_id.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        r.into_inner().read_receipt.unwrap().last_read_message_id,
        m2.message_id
    );
    let r = c
        .mark_read(req(
            &ben,
            pb::MarkReadRequest {
                conversation_id: conv.clone(),
                message_id: m1.message_id.clone(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        r.into_inner().read_receipt.unwrap().last_read_message_id,
        m2.message_id,
        "never backwards"
    );
    let counts = env.unread(&ben).await;
    assert_eq!(
        (
            counts.unread_conversation_count,
            counts.unread_message_count
        ),
        (0, 0)
    );
    env.send(&ana, &conv, "three").await;
    assert_eq!(
        env.unread(&ben).await.unread_message_count,
        1,
        "the cached counter goes up again"
    );

    let view = c
        .get_conversation(req(
            &ana,
            pb::GetConversationRequest {
                conversation_id: conv.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let ben_part = view
        .conversation
        .unwrap()
        .participants
        .into_iter()
        .find(|p| p.user.as_ref().unwrap().user_id == ben.id)
        .unwrap();
    assert_eq!(
        ben_part.last_read_message_id, m2.message_id,
        "receipts per participant"
    );
    let s = c
        .mark_read(req(
            &ben,
            pb::MarkReadRequest {
                conversation_id: conv.clone(),
                message_id: uuid::Uuid::now_v7().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::NotFound, None);
}

#[tokio::test]
async fn search_finds_all_words_in_own_conversations_only() {
    let env = start().await;
    let (ana, ben, cat) = (env.user(), env.user(), env.user());
    let ab = env.direct(&ana, &ben).await;
    let bc = env.direct(&ben, &cat).await;
    let hit = env.send(&ana, &ab, "Leg DAY tomorrow at six").await;
    env.send(&ana, &ab, "leg press only").await;
    env.send(&cat, &bc, "leg day with cat").await;
    let mut c = env.client.clone();
    let found = c
        .search_messages(req(
            &ana,
            pb::SearchMessagesRequest {
                query: "day leg".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let ids: Vec<_> = found
        .into_inner()
        .messages
        .into_iter()
        .map(|m| m.message_id)
        .collect();
    assert_eq!(
        ids,
        vec![hit.message_id],
        "all words, case-insensitive, only ana's conversations"
    );
    let found = c
        .search_messages(req(
            &ben,
            pb::SearchMessagesRequest {
                query: "leg day".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(found.into_inner().messages.len(), 2, "ben is in both");
    let s = c
        .search_messages(req(
            &ana,
            pb::SearchMessagesRequest {
                query: " ".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["query"]);
    let s = c
        .search_messages(req(
            &ana,
            pb::SearchMessagesRequest {
                query: "x".repeat(101),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["query"]);
}

#[tokio::test]
async fn bad_input_is_invalid_argument_with_every_field_named() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut c = env.client.clone();
    let send = |text: String, media: &str, request_id: &str| pb::SendMessageRequest {
        conversation_id: conv.clone(),
        text,
        media_url: media.into(),
        request_id: request_id.into(),
    };
    let s = c
        .send_message(req(&ana, send(String::new(), "", "r1")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["text"], "empty message");
    let s = c
        .send_message(req(&ana, send("x".repeat(4001), "", "r2")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["text"], "oversized message");
    c.send_message(req(&ana, send("é".repeat(4000), "", "r3")))
        .await
        .expect("4000 code points is the limit");
    let s = c
        .send_message(req(
            &ana,
            send("x".repeat(4001), "http://insecure.example/a.png", ""),
        ))
        .await
        .unwrap_err();
    let fields: HashSet<_> = violated_fields(&s).into_iter().collect();
    assert_eq!(
        fields,
        HashSet::from([
            "text".to_string(),
            "media_url".to_string(),
            "request_id".to_string()
        ])
    );
    c.send_message(req(
        &ana,
        send(String::new(), "https://cdn.example.com/a.png", "r4"),
    ))
    .await
    .expect("media alone is a message");
    let s = c
        .send_message(req(
            &ana,
            pb::SendMessageRequest {
                conversation_id: "bogus".into(),
                text: "hi".into(),
                request_id: "r5".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["conversation_id"]);
    let unknown = pb::SendMessageRequest {
        conversation_id: uuid::Uuid::now_v7().to_string(),
        text: "hi".into(),
        request_id: "r6".into(),
        ..Default::default()
    };
    assert_status(
        &c.send_message(req(&ana, unknown)).await.unwrap_err(),
        Code::NotFound,
        Some("NOT_FOUND"),
    );

    // page_size extremes.
    let list = |page_size| pb::ListMessagesRequest {
        conversation_id: conv.clone(),
        page_size,
        ..Default::default()
    };
    let s = c.list_messages(req(&ana, list(-1))).await.unwrap_err();
    assert_eq!(violated_fields(&s), vec!["page_size"]);
    let all = c
        .list_messages(req(&ana, list(i32::MAX)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        all.messages.len(),
        2,
        "a huge page size is capped, not refused"
    );
    let s = c
        .list_conversations(req(
            &ana,
            pb::ListConversationsRequest {
                page_size: -5,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["page_size"]);
    let s = c
        .list_notifications(req(
            &ana,
            pb::ListNotificationsRequest {
                page_size: i32::MIN,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["page_size"]);
    let s = c
        .list_messages(req(
            &ana,
            pb::ListMessagesRequest {
                conversation_id: conv.clone(),
                page_token: "forged".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["page_token"]);
}

#[tokio::test]
async fn a_retried_send_returns_the_same_message() {
    a_retried_send_returns_the_same_message_on(&start().await).await;
}

/// The same on the CQL message store (request ids claimed with INSERT ... IF NOT EXISTS).
#[tokio::test]
async fn a_retried_send_returns_the_same_message_on_cql() {
    let env = start_cql().await;
    a_retried_send_returns_the_same_message_on(&env).await;
    env.assert_stored_on_cql().await;
}

async fn a_retried_send_returns_the_same_message_on(env: &Env) {
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut c = env.client.clone();
    let request = pb::SendMessageRequest {
        conversation_id: conv.clone(),
        text: "once".into(),
        request_id: "retry-1".into(),
        ..Default::default()
    };
    let first = c
        .send_message(req(&ana, request.clone()))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    let again = c
        .send_message(req(&ana, request.clone()))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert_eq!(first, again);
    let s = c
        .send_message(req(
            &ana,
            pb::SendMessageRequest {
                text: "changed".into(),
                ..request
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    let history = c
        .list_messages(req(
            &ben,
            pb::ListMessagesRequest {
                conversation_id: conv,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(history.into_inner().messages.len(), 1);
}

#[tokio::test]
async fn concurrent_duplicate_sends_store_one_message() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let request = pb::SendMessageRequest {
        conversation_id: conv.clone(),
        text: "racing".into(),
        request_id: "dup-1".into(),
        ..Default::default()
    };
    let calls = (0..8).map(|_| {
        let mut c = env.client.clone();
        let r = req(&ana, request.clone());
        async move {
            c.send_message(r)
                .await
                .map(|r| r.into_inner().message.unwrap().message_id)
        }
    });
    let ids: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "every duplicate got the same message: {ids:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM messages")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE topic = 'tribe.messaging.v1' AND event_id = $1",
    )
    .bind(uuid::Uuid::parse_str(&ids[0]).unwrap())
    .fetch_one(&env.db.pool)
    .await
    .unwrap();
    assert_eq!(queued, 1, "one MessageSent event");
}

#[tokio::test]
async fn sending_is_rate_limited_per_user() {
    let env = start_with(|c| c.limits.sends_per_window = 3).await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut c = env.client.clone();
    let mut limited = None;
    for i in 0..10 {
        let r = pb::SendMessageRequest {
            conversation_id: conv.clone(),
            text: format!("spam {i}"),
            request_id: format!("s{i}"),
            ..Default::default()
        };
        if let Err(s) = c.send_message(req(&ana, r)).await {
            limited = Some((i, s));
            break;
        }
    }
    let (i, s) = limited.expect("the limit applies");
    assert!(i >= 3, "at least the allowance went through");
    assert_status(&s, Code::ResourceExhausted, Some("RATE_LIMITED"));
    env.send(&ben, &conv, "ben is not limited by ana's sends")
        .await;
}
