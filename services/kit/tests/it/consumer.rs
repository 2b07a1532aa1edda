//! Event consumption against the real broker and PostgreSQL: events produced through the
//! outbox land exactly once despite duplicate deliveries and a consumer restart; a poison
//! record is dead-lettered without stopping consumption.

use std::time::Duration;

use prost::Message as _;
use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::FutureRecord;
use sqlx::PgConnection;
use tribe_kit::config::KafkaConfig;
use tribe_kit::consumer::{ConsumerConfig, EventConsumer, EventHandler};
use tribe_kit::kafka::DEAD_LETTER_TOPIC;
use tribe_kit::outbox::{self, AfterPublish, OutboxRelay};
use tribe_proto::events::v1::{Event, UserFollowed, event::Payload};
use tribe_testkit::TestDb;

struct CountFollows;

#[async_trait::async_trait]
impl EventHandler for CountFollows {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        if let Some(Payload::UserFollowed(f)) = &event.payload {
            sqlx::query(
                "INSERT INTO follow_counts (followee, n) VALUES ($1, 1) ON CONFLICT (followee) DO UPDATE SET n = follow_counts.n + 1",
            )
            .bind(&f.followee_id)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    }
}

async fn schema(db: &TestDb) {
    sqlx::raw_sql(
        "CREATE TABLE outbox (id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL, key text NOT NULL,
           payload bytea NOT NULL, traceparent text NOT NULL DEFAULT '', created_at timestamptz NOT NULL DEFAULT now(),
           sent_at timestamptz, attempts integer NOT NULL DEFAULT 0, leased_until timestamptz);
         CREATE TABLE processed_events (consumer text NOT NULL, event_id uuid NOT NULL,
           processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer, event_id));
         CREATE TABLE follow_counts (followee text PRIMARY KEY, n bigint NOT NULL);",
    )
    .execute(&db.pool)
    .await
    .unwrap();
}

/// Writes `n` follows of `followee` through the outbox and publishes them.
async fn publish_follows(db: &TestDb, kafka: &KafkaConfig, followee: &str, n: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let mut tx = db.pool.begin().await.unwrap();
    for i in 0..n {
        let payload = Payload::UserFollowed(UserFollowed {
            follower_id: format!("fan-{i}"),
            followee_id: followee.into(),
        });
        let event = outbox::envelope("user", followee, &format!("fan-{i}"), payload);
        outbox::enqueue(&mut tx, "tribe.user.v1", &event)
            .await
            .unwrap();
        events.push(event);
    }
    tx.commit().await.unwrap();
    let relay = OutboxRelay::new(db.pool.clone(), kafka.clone()).unwrap();
    while relay.relay_once(AfterPublish::MarkSent).await.unwrap() > 0 {}
    events
}

async fn count(db: &TestDb, followee: &str) -> i64 {
    sqlx::query_scalar("SELECT coalesce((SELECT n FROM follow_counts WHERE followee = $1), 0)")
        .bind(followee)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

async fn wait_for(db: &TestDb, followee: &str, expected: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while count(db, followee).await < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} of {expected} applied",
            count(db, followee).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn spawn_consumer(
    db: &TestDb,
    kafka: &KafkaConfig,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let consumer = EventConsumer::new(
        db.pool.clone(),
        kafka.clone(),
        ConsumerConfig::new("counter", &["tribe.user.v1"]),
        CountFollows,
    )
    .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    (
        tx,
        tokio::spawn(consumer.run(async move {
            let _ = rx.await;
        })),
    )
}

#[tokio::test]
async fn duplicates_restarts_and_poison_records() {
    let db = TestDb::empty().await.unwrap();
    schema(&db).await;
    let kafka = tribe_testkit::kafka(&["tribe.user.v1", DEAD_LETTER_TOPIC])
        .await
        .unwrap();

    let first = publish_follows(&db, &kafka, "coach", 10).await;
    // Redeliver three of them, as a producer retry after a lost ack would.
    let producer = tribe_kit::kafka::producer(&kafka).unwrap();
    let topic = kafka.topic("tribe.user.v1");
    for event in &first[..3] {
        let bytes = event.encode_to_vec();
        producer
            .send(
                FutureRecord::to(&topic).key("coach").payload(&bytes),
                Duration::from_secs(10),
            )
            .await
            .unwrap();
    }
    // And a poison record that is not an Event at all.
    producer
        .send(
            FutureRecord::to(&topic)
                .key("coach")
                .payload(&b"\xff\xfenot protobuf"[..]),
            Duration::from_secs(10),
        )
        .await
        .unwrap();

    let (stop, handle) = spawn_consumer(&db, &kafka);
    wait_for(&db, "coach", 10).await;
    let _ = stop.send(());
    handle.await.unwrap().unwrap();

    // More events while no consumer runs; a new instance of the group resumes.
    publish_follows(&db, &kafka, "coach", 5).await;
    let (stop, handle) = spawn_consumer(&db, &kafka);
    wait_for(&db, "coach", 15).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
    assert_eq!(
        count(&db, "coach").await,
        15,
        "every follow counted exactly once"
    );

    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", format!("dlq-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader
        .subscribe(&[&kafka.topic(DEAD_LETTER_TOPIC)])
        .unwrap();
    let parked = tokio::time::timeout(Duration::from_secs(20), reader.recv())
        .await
        .expect("a dead letter")
        .unwrap();
    assert_eq!(parked.payload().unwrap(), b"\xff\xfenot protobuf");
    let reason = parked
        .headers()
        .unwrap()
        .iter()
        .find(|h| h.key == "dlq-reason")
        .and_then(|h| h.value)
        .unwrap();
    assert!(String::from_utf8_lossy(reason).contains("not a trainertribe.events.v1.Event"));
}

/// Counts follows slowly, so a test can stop it in the middle of a burst.
struct SlowCountFollows;

#[async_trait::async_trait]
impl EventHandler for SlowCountFollows {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        tokio::time::sleep(Duration::from_millis(40)).await;
        CountFollows.handle(tx, event).await
    }
}

#[tokio::test]
async fn a_consumer_stopped_in_the_middle_of_a_burst_resumes_where_it_committed() {
    let db = TestDb::empty().await.unwrap();
    schema(&db).await;
    let kafka = tribe_testkit::kafka(&["tribe.user.v1", DEAD_LETTER_TOPIC])
        .await
        .unwrap();
    // One relay pass: the 40 records are sent together and share record batches
    // (linger.ms), so the offset committed below lies inside a multi-record batch.
    publish_follows(&db, &kafka, "burst", 40).await;

    let consumer = EventConsumer::new(
        db.pool.clone(),
        kafka.clone(),
        ConsumerConfig::new("counter", &["tribe.user.v1"]),
        SlowCountFollows,
    )
    .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(consumer.run(async move {
        let _ = stopped.await;
    }));
    wait_for(&db, "burst", 8).await;
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
    let partial = count(&db, "burst").await;
    assert!(partial < 40, "stopped mid-burst ({partial} of 40)");

    // The restarted group continues from its committed offset, inside the burst.
    let (stop, handle) = spawn_consumer(&db, &kafka);
    wait_for(&db, "burst", 40).await;
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
    assert_eq!(count(&db, "burst").await, 40);
}
