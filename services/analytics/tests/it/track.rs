//! TrackEvents: bad batches are refused whole with field violations, the acting user is
//! always the token's subject, retries are deduplicated, the per-user rate limit holds,
//! and accepted events reach the views.

use crate::common::*;
use chrono::{Duration, Utc};
use tonic::Code;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::{ClientEventType, event::Payload};
use tribe_testkit::{authed, grpc_web, read_events};

fn event(kind: ClientEventType, target: &str, at: chrono::DateTime<Utc>) -> pb::TrackedEvent {
    pb::TrackedEvent {
        client_event_id: id(),
        r#type: kind as i32,
        target_id: target.into(),
        occur_time: Some(ts(at)),
    }
}

#[tokio::test]
async fn bad_batches_are_refused_whole_with_field_violations() {
    let mut env = start().await;
    let me = id();
    let token = env.keys.access_token(&me, &["user"]);
    let now = Utc::now();
    let post = id();

    let err = env
        .client
        .track_events(authed(
            pb::TrackEventsRequest {
                events: vec![],
                send_time: None,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["events"]);
    let too_many = (0..501)
        .map(|_| event(ClientEventType::ViewPost, &post, now))
        .collect();
    let err = env
        .client
        .track_events(authed(
            pb::TrackEventsRequest {
                events: too_many,
                send_time: None,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["events"]);

    let mut bad = vec![event(ClientEventType::ViewPost, &post, now); 7];
    bad[0].client_event_id = "has spaces".into();
    bad[1].r#type = ClientEventType::Unspecified as i32;
    bad[2].r#type = 99;
    bad[3].target_id = "x".repeat(65);
    bad[4].target_id = "not-a-post-id".into();
    bad[5].occur_time = Some(ts(now - Duration::days(8)));
    bad[6].occur_time = Some(ts(now + Duration::minutes(10)));
    let mut batch: Vec<pb::TrackedEvent> = bad
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            if i != 0 {
                e.client_event_id = id();
            }
            e
        })
        .collect();
    batch.push(pb::TrackedEvent {
        occur_time: None,
        ..event(ClientEventType::ViewProfile, &me, now)
    });
    batch.push(event(ClientEventType::ViewPost, &post, now)); // valid, still not recorded
    let err = env
        .client
        .track_events(authed(
            pb::TrackEventsRequest {
                events: batch,
                send_time: None,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec![
            "events[0].client_event_id",
            "events[1].type",
            "events[2].type",
            "events[3].target_id",
            "events[4].target_id",
            "events[5].occur_time",
            "events[6].occur_time",
            "events[7].occur_time",
        ]
    );
    let recorded: i64 = sqlx::query_scalar("SELECT count(*) FROM tracked_events")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(recorded, 0, "all or nothing");

    // A device clock two hours fast: skew correction moves the event back to "now".
    let fast = now + Duration::hours(2);
    let skewed = pb::TrackEventsRequest {
        events: vec![event(ClientEventType::ViewPost, &post, fast)],
        send_time: Some(ts(fast)),
    };
    let ok = env
        .client
        .track_events(authed(skewed, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.accepted_count, 1);
}

/// TrackEventsRequest as a hostile client builds it: with user ids smuggled in at field
/// numbers the contract does not define.
#[derive(Clone, PartialEq, prost::Message)]
struct SmuggledRequest {
    #[prost(message, repeated, tag = "1")]
    events: Vec<SmuggledEvent>,
    #[prost(string, tag = "15")]
    user_id: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct SmuggledEvent {
    #[prost(string, tag = "1")]
    client_event_id: String,
    #[prost(int32, tag = "2")]
    r#type: i32,
    #[prost(string, tag = "3")]
    target_id: String,
    #[prost(message, optional, tag = "4")]
    occur_time: Option<prost_types::Timestamp>,
    #[prost(string, tag = "5")]
    user_id: String,
}

#[tokio::test]
async fn the_acting_user_is_the_token_subject_and_retries_are_deduplicated() {
    let mut env = start().await;
    let (me, victim, coach, post) = (id(), id(), id(), id());
    env.producer
        .emit(
            "tribe.content.v1",
            &post,
            &coach,
            Utc::now(),
            Payload::PostCreated(ev::PostCreated {
                post_id: post.clone(),
                author_id: coach.clone(),
                ..Default::default()
            }),
        )
        .await;
    wait_processed(&env.db.pool, 1).await;
    let token = env.keys.access_token(&me, &["user"]);
    let now = Utc::now();
    let smuggled = SmuggledRequest {
        events: vec![SmuggledEvent {
            client_event_id: "view-1".into(),
            r#type: ClientEventType::ViewPost as i32,
            target_id: post.clone(),
            occur_time: Some(ts(now)),
            user_id: victim.clone(),
        }],
        user_id: victim.clone(),
    };
    let path = format!("/{}/TrackEvents", tribe_analytics::policy::SERVICE);
    let response: pb::TrackEventsResponse =
        grpc_web::call(&env.server.url(), &path, &smuggled, Some(&token))
            .await
            .unwrap()
            .expect("track");
    assert_eq!((response.accepted_count, response.duplicate_count), (1, 0));

    // Retried as is, plus a repeat inside the batch: nothing new.
    let retry = pb::TrackEventsRequest {
        events: vec![
            pb::TrackedEvent {
                client_event_id: "view-1".into(),
                ..event(ClientEventType::ViewPost, &post, now)
            },
            event(ClientEventType::ViewProfile, &coach, now),
        ],
        send_time: None,
    };
    let mut twice = retry.clone();
    twice.events.push(retry.events[1].clone());
    let response = env
        .client
        .track_events(authed(twice, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((response.accepted_count, response.duplicate_count), (1, 2));

    let published = read_events(
        &env.kafka,
        "tribe.analytics.v1",
        2,
        std::time::Duration::from_secs(30),
    )
    .await
    .unwrap();
    let tracked: Vec<ev::ClientEventTracked> = published
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::ClientEventTracked(t)) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(tracked.len(), 2, "duplicates are not published");
    for (event, t) in published.iter().zip(&tracked) {
        assert_eq!(t.user_id, me, "never the smuggled user id");
        assert_eq!(event.actor_id, me);
        assert_eq!(event.producer, "analytics");
    }
    assert_eq!(
        tracked[0].target_owner_id, coach,
        "the owner is filled from consumed content events"
    );

    // The accepted view reaches the author's content analytics, credited to the caller.
    wait_processed(&env.db.pool, 3).await;
    let coach_token = env.keys.access_token(&coach, &["user", "trainer"]);
    let request = pb::GetContentAnalyticsRequest {
        post_ids: vec![post.clone()],
        time_range: range(now - Duration::hours(1), now),
        granularity: HOUR,
    };
    let content = env
        .client
        .get_content_analytics(authed(request, &coach_token))
        .await
        .unwrap()
        .into_inner()
        .content_analytics
        .unwrap();
    let totals = content.posts[0].totals.unwrap();
    assert_eq!((totals.views, totals.unique_viewers), (1, 1));
    let viewers: Vec<String> =
        sqlx::query_scalar("SELECT member FROM distinct_hourly WHERE set_key = $1")
            .bind(format!("post_viewers:{post}"))
            .fetch_all(&env.db.pool)
            .await
            .unwrap();
    assert_eq!(viewers, vec![me.clone()]);
}

#[tokio::test]
async fn tracking_is_rate_limited_per_user() {
    let mut env = start_with(|c| c.track_events_per_minute = 5).await;
    let (me, other) = (id(), id());
    let token = env.keys.access_token(&me, &["user"]);
    let post = id();
    let batch = |n: usize| pb::TrackEventsRequest {
        events: (0..n)
            .map(|_| event(ClientEventType::ViewPost, &post, Utc::now()))
            .collect(),
        send_time: None,
    };
    let first = env.client.track_events(authed(batch(4), &token)).await;
    // A minute boundary may fall between the two calls; then the second one passes too.
    let second = env.client.track_events(authed(batch(4), &token)).await;
    assert!(first.is_ok());
    if let Err(err) = &second {
        assert_status(err, Code::ResourceExhausted, Some("TRACKING_RATE_LIMITED"));
    } else {
        let third = env
            .client
            .track_events(authed(batch(4), &token))
            .await
            .unwrap_err();
        assert_status(
            &third,
            Code::ResourceExhausted,
            Some("TRACKING_RATE_LIMITED"),
        );
    }
    // Someone else's budget is untouched.
    let other_token = env.keys.access_token(&other, &["user"]);
    assert!(
        env.client
            .track_events(authed(batch(4), &other_token))
            .await
            .is_ok()
    );
}
