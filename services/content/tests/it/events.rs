//! Content events through the outbox, and feeds reacting to moderation and blocks: every
//! engagement publishes its event once with mentions resolved; hiding a post takes it out
//! of followers' feeds and restoring brings it back; a block removes the other side.

use std::time::Duration;

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as upb;

#[tokio::test]
async fn engagement_and_moderation_publish_events_and_moderation_and_blocks_update_feeds() {
    let mut env = start().await;
    let a = env.register(&unique("a"), false).await;
    let b = env.register(&unique("b"), true).await;
    let c = env.register(&unique("c"), false).await;
    let admin = c.admin(&env.keys);
    env.follow(&a, &b).await;

    // Mentions resolve against handles learned from UserRegistered.
    let pool = env.db.pool.clone();
    let a_id = a.id.clone();
    wait_until(
        Duration::from_secs(30),
        "the content service learned A's handle",
        || {
            let (pool, a_id) = (pool.clone(), a_id.clone());
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1::uuid)",
                )
                .bind(&a_id)
                .fetch_one(&pool)
                .await
                .unwrap()
            }
        },
    )
    .await;
    let p = env
        .create(
            &b,
            post(&format!("leg day with @{} and @nobody_here", a.handle)),
        )
        .await;
    env.wait_feed(&a, &p.post_id, true).await;

    let mut client = env.client.clone();
    env.like(&a, &p.post_id).await.unwrap();
    env.like(&a, &p.post_id).await.unwrap();
    client
        .unlike_post(as_user(
            &a,
            pb::UnlikePostRequest {
                post_id: p.post_id.clone(),
            },
        ))
        .await
        .unwrap();
    client
        .create_comment(as_user(
            &a,
            pb::CreateCommentRequest {
                post_id: p.post_id.clone(),
                text: "nice".into(),
                request_id: unique("c"),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    client
        .report_post(as_user(
            &c,
            pb::ReportPostRequest {
                post_id: p.post_id.clone(),
                reason: pb::ReportReason::Spam as i32,
                details: String::new(),
            },
        ))
        .await
        .unwrap();

    // Hiding takes the post out of A's feed (and every stored timeline); restoring brings it back.
    let moderate = |action: pb::ModerationAction| pb::ModeratePostRequest {
        post_id: p.post_id.clone(),
        action: action as i32,
        reason: "checking".into(),
    };
    client
        .moderate_post(as_user(&admin, moderate(pb::ModerationAction::Hide)))
        .await
        .unwrap();
    env.wait_feed(&a, &p.post_id, false).await;
    let pool = env.db.pool.clone();
    let pid = p.post_id.clone();
    let a_id = a.id.clone();
    wait_until(Duration::from_secs(30), "the hidden post leaves A's stored timeline", || {
        let (pool, pid, a_id) = (pool.clone(), pid.clone(), a_id.clone());
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM home_timeline WHERE post_id = $1::uuid AND owner_id = $2::uuid")
                .bind(&pid)
                .bind(&a_id)
                .fetch_one(&pool)
                .await
                .unwrap();
            n == 0
        }
    })
    .await;
    client
        .moderate_post(as_user(&admin, moderate(pb::ModerationAction::Restore)))
        .await
        .unwrap();
    env.wait_feed(&a, &p.post_id, true).await;

    // A blocks B: B's posts leave A's feed and B's post is NOT_FOUND for A.
    env.users
        .block_user(as_user(
            &a,
            upb::BlockUserRequest {
                user_id: b.id.clone(),
            },
        ))
        .await
        .unwrap();
    env.wait_feed(&a, &p.post_id, false).await;
    // The block reaches the replica asynchronously (the unfollow it implies may come first).
    let (reader, pid) = (a.clone(), p.post_id.clone());
    wait_until(
        Duration::from_secs(30),
        "B's post is NOT_FOUND for A after the block",
        || {
            let mut client = client.clone();
            let (reader, pid) = (reader.clone(), pid.clone());
            async move {
                match client
                    .get_post(as_user(&reader, pb::GetPostRequest { post_id: pid }))
                    .await
                {
                    Err(status) => {
                        assert_status(&status, Code::NotFound, None);
                        true
                    }
                    Ok(_) => false,
                }
            }
        },
    )
    .await;

    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.content.v1", 7, Duration::from_secs(20))
            .await
            .unwrap();
    let payloads: Vec<&Payload> = events.iter().filter_map(|e| e.payload.as_ref()).collect();
    let created: Vec<_> = payloads
        .iter()
        .filter_map(|p| {
            if let Payload::PostCreated(c) = p {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(created.len(), 1);
    assert_eq!(
        created[0].mentioned_handles,
        vec![a.handle.to_lowercase(), "nobody_here".to_string()]
    );
    assert_eq!(
        created[0].mentioned_user_ids,
        vec![a.id.clone()],
        "only existing users are resolved"
    );
    let count = |f: fn(&Payload) -> bool| payloads.iter().filter(|p| f(p)).count();
    assert_eq!(
        count(|p| matches!(p, Payload::PostLiked(_))),
        1,
        "a repeated like publishes nothing"
    );
    assert_eq!(count(|p| matches!(p, Payload::PostUnliked(_))), 1);
    assert_eq!(count(|p| matches!(p, Payload::CommentCreated(_))), 1);
    assert_eq!(count(|p| matches!(p, Payload::PostReported(_))), 1);
    let moderated: Vec<_> = payloads
        .iter()
        .filter_map(|p| {
            if let Payload::PostModerated(m) = p {
                Some(m)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(moderated.len(), 2);
    assert_eq!(
        moderated[0].resolved_report_count, 1,
        "hiding closed the open report"
    );
    assert_eq!(moderated[0].new_state, pb::ModerationState::Hidden as i32);
    assert_eq!(moderated[1].new_state, pb::ModerationState::Visible as i32);
    assert!(
        events.iter().all(|e| e.aggregate_id == p.post_id),
        "keyed by the post"
    );
}
