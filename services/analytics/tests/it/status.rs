//! GetConsumerStatus: committed and end offsets, lag and the last event time per
//! partition, the watermark the views report, and a broker that cannot be reached.

use std::time::Duration;

use crate::common::*;
use chrono::Utc;
use tribe_proto::analytics::v1 as pb;
use tribe_testkit::authed;

#[tokio::test]
async fn consumer_status_shows_offsets_lag_and_last_event_time() {
    let mut env = start().await;
    let sender = id();
    // Whole seconds: the database keeps microseconds.
    let at = chrono::DateTime::from_timestamp(Utc::now().timestamp() - 300, 0).unwrap();
    for _ in 0..3 {
        env.producer
            .emit("tribe.messaging.v1", &sender, &sender, at, message(&sender))
            .await;
    }
    wait_processed(&env.db.pool, 3).await;
    let admin = env.keys.access_token(&id(), &["user", "admin"]);
    let topic = env.kafka.topic("tribe.messaging.v1");
    // The offset commit follows the database commit asynchronously: poll for it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let partition = loop {
        let request = pb::GetConsumerStatusRequest {
            topics: vec!["tribe.messaging.v1".into()],
        };
        let status = env
            .client
            .get_consumer_status(authed(request, &admin))
            .await
            .unwrap()
            .into_inner()
            .consumer_status
            .unwrap();
        assert_eq!(status.consumer_group, env.kafka.topic("analytics"));
        assert_eq!(status.partitions.len(), 1);
        let p = status.partitions[0].clone();
        assert_eq!((p.topic.as_str(), p.end_offset), (topic.as_str(), 3));
        if p.committed_offset == 3 {
            assert!(status.watermark_time.is_some());
            break p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "offset never committed: {p:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(partition.lag, 0);
    assert_eq!(partition.last_event_time, Some(ts(at)));
    assert!(partition.last_process_time.is_some());

    // With no lag anywhere the views' watermark moves past the last event to "now".
    let token = env.keys.access_token(&sender, &["user"]);
    let request = pb::GetUserAnalyticsRequest {
        user_id: sender.clone(),
        time_range: range(at - chrono::Duration::hours(1), Utc::now()),
        granularity: HOUR,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let view = env
            .client
            .get_user_analytics(authed(request.clone(), &token))
            .await
            .unwrap()
            .into_inner()
            .user_analytics
            .unwrap();
        assert_eq!(view.totals.unwrap().messages_sent, 3);
        if view.watermark_time.unwrap().seconds > at.timestamp() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the watermark never passed the last event"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn consumer_status_is_unavailable_when_the_broker_is_unreachable() {
    let closed = tribe_testkit::free_addr();
    let mut env = start_with(|c| {
        c.kafka.brokers = closed.to_string();
        c.workers.consume_events = false;
        c.workers.outbox_relay = false;
    })
    .await;
    let admin = env.keys.access_token(&id(), &["user", "admin"]);
    let err = env
        .client
        .get_consumer_status(authed(
            pb::GetConsumerStatusRequest { topics: vec![] },
            &admin,
        ))
        .await
        .unwrap_err();
    assert_status(&err, tonic::Code::Unavailable, Some("BROKER_UNAVAILABLE"));
}
