//! Direct conversations: opening one (once per pair), history with the inbox by latest
//! activity, and when a conversation reaches the other side's inbox.

use crate::common::*;
use tonic::Code;
use tribe_proto::messaging::v1 as pb;

#[tokio::test]
async fn creating_an_existing_direct_conversation_returns_it() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let first = env.direct(&ana, &ben).await;
    assert_eq!(
        env.direct(&ana, &ben).await,
        first,
        "same pair, same conversation"
    );
    assert_eq!(
        env.direct(&ben, &ana).await,
        first,
        "from the other side too"
    );
    let mut c = env.client.clone();
    let s = c
        .create_conversation(req(
            &ana,
            pb::CreateConversationRequest {
                user_id: ana.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&s, Code::InvalidArgument, Some("CANNOT_MESSAGE_SELF"));
    let s = c
        .create_conversation(req(
            &ana,
            pb::CreateConversationRequest {
                user_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["user_id"]);
    let conv = c
        .get_conversation(req(
            &ben,
            pb::GetConversationRequest {
                conversation_id: first.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let conv = conv.conversation.unwrap();
    assert_eq!(conv.r#type, pb::ConversationType::Direct as i32);
    assert_eq!(conv.member_count, 2);
    assert_eq!(conv.viewer_role, pb::MemberRole::Member as i32);
}

#[tokio::test]
async fn history_pages_backwards_and_the_inbox_orders_by_latest_activity() {
    history_pages_backwards_and_the_inbox_orders_by_latest_activity_on(&start().await).await;
}

/// The same on the CQL message store (messages in time buckets, the inbox by activity).
#[tokio::test]
async fn history_pages_backwards_and_the_inbox_orders_by_latest_activity_on_cql() {
    let env = start_cql().await;
    history_pages_backwards_and_the_inbox_orders_by_latest_activity_on(&env).await;
    env.assert_stored_on_cql().await;
}

async fn history_pages_backwards_and_the_inbox_orders_by_latest_activity_on(env: &Env) {
    let (ana, ben, cat) = (env.user(), env.user(), env.user());
    let with_ben = env.direct(&ana, &ben).await;
    let with_cat = env.direct(&ana, &cat).await;
    let mut sent = Vec::new();
    for i in 0..25 {
        sent.push(
            env.send(
                if i % 2 == 0 { &ana } else { &ben },
                &with_ben,
                &format!("message {i}"),
            )
            .await
            .message_id,
        );
    }
    env.send(&cat, &with_cat, "hi ana").await;

    let mut c = env.client.clone();
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = c
            .list_messages(req(
                &ben,
                pb::ListMessagesRequest {
                    conversation_id: with_ben.clone(),
                    page_size: 10,
                    page_token: token.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.messages.len() <= 10);
        seen.extend(page.messages.into_iter().map(|m| m.message_id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut newest_first = sent.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first, "every message once, newest first");

    // Another caller cannot use the token; a changed filter is refused.
    let page = c
        .list_messages(req(
            &ben,
            pb::ListMessagesRequest {
                conversation_id: with_ben.clone(),
                page_size: 10,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let token = page.into_inner().next_page_token;
    let s = c
        .list_messages(req(
            &ana,
            pb::ListMessagesRequest {
                conversation_id: with_ben.clone(),
                page_size: 10,
                page_token: token.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&s), vec!["page_token"]);

    let inbox = c
        .list_conversations(req(&ana, pb::ListConversationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let order: Vec<_> = inbox
        .conversations
        .iter()
        .map(|c| c.conversation_id.clone())
        .collect();
    assert_eq!(
        order,
        vec![with_cat.clone(), with_ben.clone()],
        "latest activity first"
    );
    let cat_row = &inbox.conversations[0];
    assert_eq!(cat_row.last_message.as_ref().unwrap().text, "hi ana");
    assert_eq!(cat_row.unread_count, 1);
    assert_eq!(
        inbox.conversations[1].unread_count, 12,
        "ben's 12 messages are unread for ana"
    );
    env.send(&ben, &with_ben, "bump").await;
    let inbox = c
        .list_conversations(req(
            &ana,
            pb::ListConversationsRequest {
                page_size: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        inbox.conversations[0].conversation_id, with_ben,
        "a new message moves the conversation up"
    );
    assert!(!inbox.next_page_token.is_empty());
    let rest = c
        .list_conversations(req(
            &ana,
            pb::ListConversationsRequest {
                page_size: 1,
                page_token: inbox.next_page_token,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.conversations[0].conversation_id, with_cat);
}

#[tokio::test]
async fn a_direct_conversation_reaches_the_other_inbox_with_its_first_message() {
    let env = start().await;
    let (ana, ben) = (env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let mut c = env.client.clone();
    let inbox = c
        .list_conversations(req(&ben, pb::ListConversationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(inbox.conversations.is_empty(), "nothing sent yet");
    env.send(&ana, &conv, "hey").await;
    let inbox = c
        .list_conversations(req(&ben, pb::ListConversationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inbox.conversations.len(), 1);
}
