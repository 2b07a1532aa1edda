//! The rollup consumer (`ingest`), exactly once: duplicate deliveries, a consumer crash
//! mid-batch and a broker restart neither lose nor double count; poison messages go to the
//! dead-letter topic without stopping consumption.

use std::time::Duration;

use crate::common::*;
use chrono::Utc;
use rdkafka::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use tribe_analytics::ingest::{Rollups, consumer_config};
use tribe_kit::config::{KafkaConfig, TopicLayout};
use tribe_kit::consumer::EventConsumer;
use tribe_kit::kafka::DEAD_LETTER_TOPIC;
use tribe_kit::outbox::AfterPublish;
use tribe_proto::events::v1::{self as ev, event::Payload};
use tribe_testkit::TestDb;

#[tokio::test]
async fn duplicate_deliveries_count_once() {
    let env = start().await;
    let sender = id();
    let now = Utc::now();
    let mut sent = Vec::new();
    for _ in 0..10 {
        sent.push(
            env.producer
                .emit(
                    "tribe.messaging.v1",
                    &sender,
                    &sender,
                    now,
                    message(&sender),
                )
                .await,
        );
    }
    // Every event delivered again, some twice more, as a producer retrying after a crash would.
    for (i, event) in sent.iter().enumerate() {
        republish(&env.kafka, "tribe.messaging.v1", event).await;
        if i % 3 == 0 {
            republish(&env.kafka, "tribe.messaging.v1", event).await;
        }
    }
    // A relay that dies between publishing and marking publishes nothing twice either
    // way, and the consumer would absorb it if it did.
    env.producer
        .enqueue(
            "tribe.messaging.v1",
            &sender,
            &sender,
            now,
            message(&sender),
        )
        .await;
    assert!(
        env.producer
            .relay
            .relay_once(AfterPublish::CrashBeforeMark)
            .await
            .is_err()
    );
    env.producer.flush().await;
    // A marker published last: once it is applied, everything before it on the partition was.
    let marker = id();
    env.producer
        .emit(
            "tribe.messaging.v1",
            &sender,
            &marker,
            now,
            message(&marker),
        )
        .await;
    wait_until_counted(&env.db.pool, &format!("user:{marker}"), "messages_sent", 1).await;
    assert_eq!(
        counter(&env.db.pool, &format!("user:{sender}"), "messages_sent").await,
        11
    );
    assert_eq!(counter(&env.db.pool, "platform", "messages_sent").await, 12);
    let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(processed, 12);
}

async fn wait_until_counted(pool: &sqlx::PgPool, subject: &str, metric: &str, n: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while counter(pool, subject, metric).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{subject} {metric} never reached {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A consumer run directly (no server), to crash it at will.
fn consumer(db: &TestDb, kafka: &KafkaConfig) -> EventConsumer<Rollups> {
    EventConsumer::new(db.pool.clone(), kafka.clone(), consumer_config(), Rollups).unwrap()
}

#[tokio::test]
async fn a_consumer_crash_mid_batch_loses_nothing_and_counts_nothing_twice() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let db = TestDb::create(&tribe_analytics::MIGRATOR).await.unwrap();
    tribe_analytics::partitions::prepare(&db.pool, Utc::now())
        .await
        .unwrap();
    let kafka = tribe_testkit::kafka(&all_topics()).await.unwrap();
    let producer = Producer::new(&kafka).await;
    let sender = id();
    const N: i64 = 300;
    for _ in 0..N {
        producer
            .emit(
                "tribe.messaging.v1",
                &sender,
                &sender,
                Utc::now(),
                message(&sender),
            )
            .await;
    }

    let first = tokio::spawn(consumer(&db, &kafka).run(std::future::pending::<()>()));
    let done = wait_processed(&db.pool, 40).await;
    // Crash: the task is dropped wherever it is, mid-transaction or between the database
    // commit and the asynchronous offset commit, without the final offset commit.
    first.abort();
    let _ = first.await;
    assert!(
        done < N,
        "the crash should happen mid-batch ({done} of {N} done)"
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(consumer(&db, &kafka).run(async move {
        let _ = stopped.await;
    }));
    wait_processed(&db.pool, N).await;
    let _ = stop.send(());
    second.await.unwrap().unwrap();
    assert_eq!(
        counter(&db.pool, &format!("user:{sender}"), "messages_sent").await,
        N
    );

    // Offsets lost altogether (the group's commit rewound to the start): every event is
    // delivered again to a third consumer and none is counted twice.
    {
        let group: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &kafka.brokers)
            .set("group.id", kafka.topic(tribe_analytics::ingest::GROUP))
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut rewind = rdkafka::TopicPartitionList::new();
        rewind
            .add_partition_offset(
                &kafka.topic("tribe.messaging.v1"),
                0,
                rdkafka::Offset::Offset(0),
            )
            .unwrap();
        group
            .commit(&rewind, rdkafka::consumer::CommitMode::Sync)
            .unwrap();
        let committed = group
            .committed_offsets(rewind, Duration::from_secs(5))
            .unwrap();
        assert_eq!(
            committed.elements()[0].offset(),
            rdkafka::Offset::Offset(0),
            "the rewind took"
        );
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let third = tokio::spawn(consumer(&db, &kafka).run(async move {
        let _ = stopped.await;
    }));
    let marker = id();
    producer
        .emit(
            "tribe.messaging.v1",
            &marker,
            &marker,
            Utc::now(),
            message(&marker),
        )
        .await;
    wait_until_counted(&db.pool, &format!("user:{marker}"), "messages_sent", 1).await;
    let _ = stop.send(());
    third.await.unwrap().unwrap();
    assert_eq!(
        counter(&db.pool, &format!("user:{sender}"), "messages_sent").await,
        N
    );
    assert_eq!(counter(&db.pool, "platform", "messages_sent").await, N + 1);
    let raw: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(raw, N + 1);
    let processed: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(
        processed,
        N + 1,
        "the replayed events were recognised, not applied"
    );
}

#[tokio::test]
async fn a_broker_restart_loses_nothing_and_counts_nothing_twice() {
    let mut broker = tribe_testkit::kafka::OwnKafka::start().await.unwrap();
    let kafka = broker.config();
    tribe_kit::kafka::ensure_topics(&kafka, &all_topics(), TopicLayout::SINGLE)
        .await
        .unwrap();
    let db = TestDb::create(&tribe_analytics::MIGRATOR).await.unwrap();
    tribe_analytics::partitions::prepare(&db.pool, Utc::now())
        .await
        .unwrap();
    let producer = Producer::new(&kafka).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(consumer(&db, &kafka).run(async move {
        let _ = stopped.await;
    }));
    let sender = id();
    for _ in 0..20 {
        producer
            .emit(
                "tribe.messaging.v1",
                &sender,
                &sender,
                Utc::now(),
                message(&sender),
            )
            .await;
    }
    wait_processed(&db.pool, 20).await;

    broker.restart().await.unwrap();
    for _ in 0..20 {
        producer
            .emit(
                "tribe.messaging.v1",
                &sender,
                &sender,
                Utc::now(),
                message(&sender),
            )
            .await;
    }
    wait_processed(&db.pool, 40).await;
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    assert_eq!(
        counter(&db.pool, &format!("user:{sender}"), "messages_sent").await,
        40
    );
    assert_eq!(counter(&db.pool, "platform", "messages_sent").await, 40);
}

#[tokio::test]
async fn poison_messages_are_dead_lettered_and_consumption_continues() {
    let env = start().await;
    let author = id();
    publish_raw(
        &env.kafka,
        "tribe.content.v1",
        "k",
        b"\xff\x00 definitely not protobuf",
    )
    .await;
    // Decodes, but a PostCreated without a post id cannot be applied.
    env.producer
        .emit(
            "tribe.content.v1",
            "k",
            &author,
            Utc::now(),
            Payload::PostCreated(ev::PostCreated {
                author_id: author.clone(),
                ..Default::default()
            }),
        )
        .await;
    let good = id();
    env.producer
        .emit(
            "tribe.content.v1",
            &good,
            &author,
            Utc::now(),
            Payload::PostCreated(ev::PostCreated {
                post_id: good.clone(),
                author_id: author.clone(),
                ..Default::default()
            }),
        )
        .await;
    wait_until_counted(&env.db.pool, &format!("user:{author}"), "posts_created", 1).await;

    let reader: StreamConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &env.kafka.brokers)
        .set("group.id", format!("dlq-reader-{}", id()))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader
        .subscribe(&[&env.kafka.topic(DEAD_LETTER_TOPIC)])
        .unwrap();
    let mut reasons = Vec::new();
    while reasons.len() < 2 {
        let record = tokio::time::timeout(Duration::from_secs(30), reader.recv())
            .await
            .expect("dead letters")
            .unwrap();
        let headers = record.headers().unwrap();
        let reason = headers
            .iter()
            .find(|h| h.key == "dlq-reason")
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).to_string())
            .unwrap();
        let source = headers
            .iter()
            .find(|h| h.key == "dlq-source-topic")
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).to_string());
        assert_eq!(source, Some(env.kafka.topic("tribe.content.v1")));
        reasons.push(reason);
    }
    assert!(
        reasons[0].contains("not a trainertribe.events.v1.Event"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("malformed PostCreated") && reasons[1].contains("post_id"),
        "{reasons:?}"
    );
    assert_eq!(
        counter(&env.db.pool, &format!("user:{author}"), "posts_created").await,
        1
    );
}
