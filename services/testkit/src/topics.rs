//! Kafka for one test: topics under a private suffix, and reading back what was published.

use std::time::Duration;

use anyhow::Context;
use prost::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message};
use tribe_kit::config::KafkaConfig;
use tribe_proto::events::v1::Event;

/// Kafka settings isolated to one test by a topic suffix; the topics exist on return.
pub async fn kafka(logical_topics: &[&str]) -> anyhow::Result<KafkaConfig> {
    let config = KafkaConfig {
        brokers: std::env::var("TRIBE_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
        topic_suffix: format!(".test-{}", uuid::Uuid::new_v4().simple()),
    };
    tribe_kit::kafka::ensure_topics(
        &config,
        logical_topics,
        tribe_kit::config::TopicLayout::SINGLE,
    )
    .await
    .context("create test topics (is the broker running? ./mesh/test.sh starts one)")?;
    Ok(config)
}

/// Publishes `events` to the test's `logical_topic` as another service's relay would
/// (keyed by aggregate id) — a redelivery when an event repeats.
pub async fn publish(
    kafka: &KafkaConfig,
    logical_topic: &str,
    events: &[&Event],
) -> anyhow::Result<()> {
    let producer = tribe_kit::kafka::producer(kafka)?;
    let topic = kafka.topic(logical_topic);
    for event in events {
        let payload = event.encode_to_vec();
        let record = rdkafka::producer::FutureRecord::to(&topic)
            .key(&event.aggregate_id)
            .payload(&payload);
        producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .context("publish a test event")?;
    }
    Ok(())
}

/// Reads every event on `logical_topic` from the beginning until `quiet` passes with
/// nothing new, or `deadline` passes; returns them in log order.
pub async fn read_events(
    kafka: &KafkaConfig,
    logical_topic: &str,
    min_count: usize,
    deadline: Duration,
) -> anyhow::Result<Vec<Event>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set(
            "group.id",
            format!("test-reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[&kafka.topic(logical_topic)])?;
    let mut events = Vec::new();
    let end = tokio::time::Instant::now() + deadline;
    let quiet = Duration::from_millis(1500);
    loop {
        let wait = if events.len() >= min_count {
            quiet
        } else {
            end.saturating_duration_since(tokio::time::Instant::now())
        };
        match tokio::time::timeout(wait, consumer.recv()).await {
            Ok(Ok(message)) => {
                let payload = message.payload().unwrap_or_default();
                events.push(Event::decode(payload).context("decode event")?);
            }
            Ok(Err(err)) => anyhow::bail!("consume: {err}"),
            Err(_) => break,
        }
        if tokio::time::Instant::now() >= end {
            break;
        }
    }
    Ok(events)
}
