//! User events reach the real broker through the outbox: once per change, with stable
//! event ids, even when the relay dies between publishing and marking rows sent.

use std::time::Duration;

use crate::common::*;
use tribe_kit::outbox::{AfterPublish, OutboxRelay};
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as pb;

fn follows(
    events: &[tribe_proto::events::v1::Event],
    follower: &str,
    followee: &str,
) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::UserFollowed(f))
                if f.follower_id == follower && f.followee_id == followee =>
            {
                Some(e.event_id.clone())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_follow_publishes_one_user_followed_event() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let coach = env.register("coach", true).await;
    for _ in 0..3 {
        env.client
            .follow_user(ana.request(pb::FollowUserRequest {
                user_id: coach.id.clone(),
            }))
            .await
            .unwrap();
    }
    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.user.v1", 3, Duration::from_secs(20))
            .await
            .unwrap();
    let ids = follows(&events, &ana.id, &coach.id);
    assert_eq!(
        ids.len(),
        1,
        "one event for one follow, however often it is repeated"
    );
    let event = events.iter().find(|e| e.event_id == ids[0]).unwrap();
    assert_eq!(event.actor_id, ana.id);
    assert_eq!(event.aggregate_id, coach.id, "keyed by the followee");
    assert_eq!(event.producer, "user");
    assert!(event.occur_time.is_some());
    let registered = events
        .iter()
        .filter(|e| matches!(e.payload, Some(Payload::UserRegistered(_))))
        .count();
    assert_eq!(registered, 2);
}

#[tokio::test]
async fn a_relay_crash_between_publish_and_mark_sent_duplicates_nothing() {
    let mut env = start_with(|c| c.workers.outbox_relay = false).await;
    let ana = env.register("ana", false).await;
    let coach = env.register("coach", true).await;
    env.client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: coach.id.clone(),
        }))
        .await
        .unwrap();

    let lease = Duration::from_secs(4);
    let crashing = OutboxRelay::new(env.db.pool.clone(), env.kafka.clone())
        .unwrap()
        .with_lease(lease);
    assert!(
        crashing
            .relay_once(AfterPublish::CrashBeforeMark)
            .await
            .is_err(),
        "simulated crash"
    );
    drop(crashing);
    let unsent: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(unsent, 3, "the crash left every row unsent");
    let attempts: i64 = sqlx::query_scalar("SELECT min(attempts)::bigint FROM outbox")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(attempts, 1, "the attempt was recorded before publishing");

    let restarted = OutboxRelay::new(env.db.pool.clone(), env.kafka.clone())
        .unwrap()
        .with_lease(lease);
    assert_eq!(
        restarted.relay_once(AfterPublish::MarkSent).await.unwrap(),
        0,
        "rows stay leased to the crashed relay for a while"
    );
    tokio::time::sleep(lease + Duration::from_millis(500)).await;
    assert_eq!(
        restarted.relay_once(AfterPublish::MarkSent).await.unwrap(),
        3,
        "the lease ran out: rows are settled"
    );
    assert_eq!(
        restarted.relay_once(AfterPublish::MarkSent).await.unwrap(),
        0,
        "nothing left"
    );

    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.user.v1", 3, Duration::from_secs(20))
            .await
            .unwrap();
    assert_eq!(
        follows(&events, &ana.id, &coach.id).len(),
        1,
        "exactly one UserFollowed on the topic"
    );
    let mut ids: Vec<_> = events.iter().map(|e| e.event_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "no event was published twice");
}

#[tokio::test]
async fn the_callers_trace_context_travels_into_the_event() {
    let _telemetry = tribe_kit::telemetry::init("user-test").unwrap();
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let coach = env.register("coach", true).await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = ana.request(pb::FollowUserRequest {
        user_id: coach.id.clone(),
    });
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    env.client.follow_user(request).await.unwrap();
    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.user.v1", 3, Duration::from_secs(20))
            .await
            .unwrap();
    let followed = events
        .iter()
        .find(|e| matches!(e.payload, Some(Payload::UserFollowed(_))))
        .expect("UserFollowed");
    let traceparent = &followed.trace.as_ref().unwrap().traceparent;
    assert!(
        traceparent.starts_with(&format!("00-{trace_id}-")),
        "trace continued into the event: {traceparent:?}"
    );
    assert!(
        !traceparent.contains("00f067aa0ba902b7"),
        "with the service's own span as parent"
    );
}

#[tokio::test]
async fn a_subscription_event_raises_the_tier_in_new_tokens() {
    use tribe_proto::events::v1::SubscriptionStarted;
    use tribe_proto::r#type::v1::SubscriptionTier;

    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let started = Payload::SubscriptionStarted(SubscriptionStarted {
        user_id: ana.id.clone(),
        entitlement_tier: SubscriptionTier::Premium as i32,
        ..Default::default()
    });
    let event = tribe_kit::outbox::envelope("payment", &ana.id, &ana.id, started);
    // Delivered twice: applied once.
    env.publish("tribe.payment.v1", &event, 2).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut refresh = ana.refresh.clone();
    loop {
        let tokens = env
            .client
            .refresh_token(pb::RefreshTokenRequest {
                refresh_token: refresh.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .tokens
            .unwrap();
        refresh = tokens.refresh_token;
        let tier = match env.keys.verifier().verify(&tokens.access_token).unwrap() {
            tribe_kit::auth::Principal::User(u) => u.tier,
            other => panic!("{other:?}"),
        };
        if tier == tribe_kit::auth::Tier::Premium {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tier never became premium"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let profile = env
        .client
        .get_user(ana.request(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::UserId(ana.id.clone())),
        }))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(profile.tier, SubscriptionTier::Premium as i32);
    let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(processed, 1, "the duplicate delivery was skipped");
}

#[tokio::test]
async fn a_profile_change_publishes_the_changed_fields_and_the_new_summary() {
    let mut env = start().await;
    let ana = env.register("ana", true).await;
    let new_handle = format!("{}_lifts", ana.handle);
    env.client
        .update_user(ana.request(pb::UpdateUserRequest {
            user: Some(pb::User {
                user_id: ana.id.clone(),
                handle: new_handle.clone(),
                display_name: "Ana Lifts".into(),
                bio: "unchanged: not in the mask".into(),
                ..Default::default()
            }),
            update_mask: mask(&["handle", "display_name"]),
        }))
        .await
        .unwrap();
    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.user.v1", 2, Duration::from_secs(20))
            .await
            .unwrap();
    let updated: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::UserUpdated(u)) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].changed_fields, ["handle", "display_name"]);
    let summary = updated[0]
        .user
        .as_ref()
        .expect("the summary after the change");
    assert_eq!(
        (
            summary.user_id.as_str(),
            summary.handle.as_str(),
            summary.display_name.as_str()
        ),
        (ana.id.as_str(), new_handle.as_str(), "Ana Lifts")
    );
    assert!(summary.is_trainer);
}
