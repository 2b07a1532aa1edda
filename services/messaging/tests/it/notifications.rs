//! Notifications from user and content events (produced through the real outbox relay
//! onto the broker), delivered live, listed, grouped, marked read; and messaging events
//! published without message bodies.

use std::time::Duration;

use crate::common::*;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;

const WAIT: Duration = Duration::from_secs(30);

fn event(producer: &str, key: &str, actor: &str, payload: Payload) -> ev::Event {
    tribe_kit::outbox::envelope(producer, key, actor, payload)
}

#[tokio::test]
async fn a_follow_and_likes_are_delivered_live_listed_and_grouped() {
    let env = start().await;
    let (coach, ana, ben, cat) = (env.user(), env.user(), env.user(), env.user());
    let mut stream = env.open_stream(&coach).await;
    let registered = event(
        "user",
        &ana.id,
        &ana.id,
        Payload::UserRegistered(ev::UserRegistered {
            user_id: ana.id.clone(),
            handle: "ana".into(),
            is_trainer: false,
        }),
    );
    let follow = event(
        "user",
        &coach.id,
        &ana.id,
        Payload::UserFollowed(ev::UserFollowed {
            follower_id: ana.id.clone(),
            followee_id: coach.id.clone(),
        }),
    );
    env.produce("tribe.user.v1", &[registered, follow.clone()])
        .await;

    let (live, _) = wait_for(&mut stream, WAIT, |e| matches!(e, Event::Notification(_))).await;
    let Event::Notification(n) = live else {
        unreachable!()
    };
    assert_eq!(n.r#type, pb::NotificationType::Follow as i32);
    assert_eq!(n.actors[0].user_id, ana.id);
    assert_eq!(
        n.actors[0].handle, "ana",
        "the handle learned from UserRegistered"
    );

    let like = |who: &User, post: &str| {
        event(
            "content",
            post,
            &who.id,
            Payload::PostLiked(ev::PostLiked {
                post_id: post.into(),
                author_id: coach.id.clone(),
                user_id: who.id.clone(),
            }),
        )
    };
    let self_like = event(
        "content",
        "p1",
        &coach.id,
        Payload::PostLiked(ev::PostLiked {
            post_id: "p1".into(),
            author_id: coach.id.clone(),
            user_id: coach.id.clone(),
        }),
    );
    env.produce(
        "tribe.content.v1",
        &[
            like(&ana, "p1"),
            like(&ben, "p1"),
            like(&cat, "p1"),
            self_like,
            like(&ana, "p2"),
        ],
    )
    .await;
    // A redelivered follow is applied once.
    env.produce_direct("tribe.user.v1", &[follow]).await;

    let mut seen_like = false;
    while !seen_like {
        let (e, _) = wait_for(&mut stream, WAIT, |e| matches!(e, Event::Notification(_))).await;
        seen_like = matches!(e, Event::Notification(n) if n.r#type == pb::NotificationType::PostLike as i32);
    }
    let mut c = env.client.clone();
    let list = eventually(WAIT, "the grouped likes", || {
        let mut c = c.clone();
        let coach = coach.clone();
        async move {
            let list = c
                .list_notifications(req(&coach, pb::ListNotificationsRequest::default()))
                .await
                .unwrap()
                .into_inner();
            let p2 = list.notifications.iter().any(|n| n.post_id == "p2");
            p2.then_some(list)
        }
    })
    .await;
    let kinds: Vec<(i32, String, i32)> = list
        .notifications
        .iter()
        .map(|n| (n.r#type, n.post_id.clone(), n.actor_count))
        .collect();
    let liked = pb::NotificationType::PostLike as i32;
    assert_eq!(
        kinds,
        vec![
            (liked, "p2".into(), 1),
            (liked, "p1".into(), 3),
            (pb::NotificationType::Follow as i32, String::new(), 1)
        ],
        "three likes on p1 are one notification; the self-like and the duplicate follow add nothing"
    );
    let p1 = &list.notifications[1];
    assert_eq!(
        p1.actors
            .iter()
            .map(|a| a.user_id.clone())
            .collect::<Vec<_>>(),
        vec![cat.id.clone(), ben.id.clone(), ana.id.clone()],
        "newest first"
    );

    let counts = env.unread(&coach).await;
    assert_eq!(counts.unread_notification_count, 3);
    let page = c
        .list_notifications(req(
            &coach,
            pb::ListNotificationsRequest {
                page_size: 2,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.notifications.len(), 2);
    let s = c
        .list_notifications(req(
            &coach,
            pb::ListNotificationsRequest {
                unread_only: true,
                page_size: 2,
                page_token: page.next_page_token.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&s),
        vec!["page_token"],
        "a changed filter invalidates the token"
    );
    let rest = c
        .list_notifications(req(
            &coach,
            pb::ListNotificationsRequest {
                page_size: 2,
                page_token: page.next_page_token,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.notifications.len(), 1);

    let marked = c
        .mark_notifications_read(req(
            &coach,
            pb::MarkNotificationsReadRequest {
                notification_ids: vec![p1.notification_id.clone()],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(marked.unread_counts.unwrap().unread_notification_count, 2);
    // A like after reading starts a new group.
    env.produce("tribe.content.v1", &[like(&ben, "p1")]).await;
    let list = eventually(WAIT, "a new group", || {
        let mut c = c.clone();
        let coach = coach.clone();
        async move {
            let list = c
                .list_notifications(req(
                    &coach,
                    pb::ListNotificationsRequest {
                        unread_only: true,
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            list.notifications
                .iter()
                .any(|n| n.post_id == "p1")
                .then_some(list)
        }
    })
    .await;
    let fresh = list
        .notifications
        .iter()
        .find(|n| n.post_id == "p1")
        .unwrap();
    assert_eq!(fresh.actor_count, 1);
    assert_ne!(fresh.notification_id, p1.notification_id);
    let all = c
        .mark_notifications_read(req(
            &coach,
            pb::MarkNotificationsReadRequest {
                up_to_time: Some(prost_types::Timestamp {
                    seconds: i64::from(u32::MAX),
                    nanos: 0,
                }),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.unread_counts.unwrap().unread_notification_count, 0);
    let s = c
        .mark_notifications_read(req(&coach, pb::MarkNotificationsReadRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&s),
        vec!["notification_ids"],
        "neither selector"
    );
    // Someone else's notifications are untouched by the coach and invisible to others.
    let other = c
        .list_notifications(req(&ana, pb::ListNotificationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(other.notifications.is_empty());
}

#[tokio::test]
async fn comments_and_mentions_notify_and_messages_notify_offline_recipients() {
    let env = start().await;
    let (coach, ana, ben) = (env.user(), env.user(), env.user());
    let comment = event(
        "content",
        "p9",
        &ana.id,
        Payload::CommentCreated(ev::CommentCreated {
            comment_id: "c1".into(),
            post_id: "p9".into(),
            post_author_id: coach.id.clone(),
            author_id: ana.id.clone(),
            mentioned_user_ids: vec![ben.id.clone()],
            ..Default::default()
        }),
    );
    env.produce("tribe.content.v1", &[comment]).await;
    let mut c = env.client.clone();
    let mention = eventually(WAIT, "the mention", || {
        let mut c = c.clone();
        let ben = ben.clone();
        async move {
            c.list_notifications(req(&ben, pb::ListNotificationsRequest::default()))
                .await
                .unwrap()
                .into_inner()
                .notifications
                .pop()
        }
    })
    .await;
    assert_eq!(
        (mention.r#type, mention.comment_id.as_str()),
        (pb::NotificationType::Mention as i32, "c1")
    );
    let coach_list = c
        .list_notifications(req(&coach, pb::ListNotificationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        coach_list.notifications[0].r#type,
        pb::NotificationType::Comment as i32
    );

    // ben has no open stream: messages to him become one grouped MESSAGE notification.
    let conv = env.direct(&ana, &ben).await;
    env.send(&ana, &conv, "one").await;
    env.send(&ana, &conv, "two").await;
    let list = c
        .list_notifications(req(&ben, pb::ListNotificationsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let messages: Vec<_> = list
        .notifications
        .iter()
        .filter(|n| n.r#type == pb::NotificationType::Message as i32)
        .collect();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].conversation_id, conv);
}

#[tokio::test]
async fn messaging_events_reach_the_broker_without_message_bodies() {
    let env = start().await;
    let (ana, ben, cat) = (env.user(), env.user(), env.user());
    let conv = env.direct(&ana, &ben).await;
    let body = "my secret training plan";
    let m = env.send(&ana, &conv, body).await;
    let g = env.group(&ana, &[&ben]).await;
    let mut c = env.client.clone();
    c.add_group_member(req(
        &ana,
        pb::AddGroupMemberRequest {
            conversation_id: g.clone(),
            user_id: cat.id.clone(),
        },
    ))
    .await
    .unwrap();
    let events = tribe_testkit::read_events(&env.kafka, "tribe.messaging.v1", 4, WAIT)
        .await
        .unwrap();
    let sent: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::MessageSent(s)) => Some((e, s)),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    let (envelope, s) = sent[0];
    assert_eq!(
        (s.message_id.as_str(), s.sender_id.as_str(), s.text_length),
        (m.message_id.as_str(), ana.id.as_str(), body.len() as i32)
    );
    assert_eq!(s.recipient_ids, vec![ben.id.clone()]);
    assert_eq!(envelope.aggregate_id, conv, "keyed by conversation");
    assert_eq!(envelope.producer, "messaging");
    let created = events
        .iter()
        .filter(|e| matches!(e.payload, Some(Payload::ConversationCreated(_))))
        .count();
    assert_eq!(created, 2, "the direct conversation and the group");
    let added = events
        .iter()
        .find_map(|e| match &e.payload {
            Some(Payload::GroupMembershipChanged(x)) => Some(x.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (added.user_id.as_str(), added.change),
        (cat.id.as_str(), ev::MessagingMembershipChange::Added as i32)
    );
    for e in &events {
        let raw = prost::Message::encode_to_vec(e);
        assert!(
            !raw.windows(body.len()).any(|w| w == body.as_bytes()),
            "no event carries the message text"
        );
        assert!(
            !raw.windows(12).any(|w| w == b"Leg day crew"),
            "no event carries the group name"
        );
    }
}
