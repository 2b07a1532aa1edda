//! Kafka clients and topics shared by the outbox relay (producing) and the event
//! consumer (consuming, dead-lettering): the producer settings, the topic names, and
//! creating topics.

use std::time::Duration;

use anyhow::Context;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::FutureProducer;

use crate::config::{KafkaConfig, TopicLayout};

/// Where undecodable, unknown or repeatedly failing events go.
pub const DEAD_LETTER_TOPIC: &str = "tribe.deadletter.v1";

/// Every logical domain topic.
pub const TOPICS: [&str; 8] = [
    "tribe.user.v1",
    "tribe.content.v1",
    "tribe.messaging.v1",
    "tribe.fitness.v1",
    "tribe.support.v1",
    "tribe.payment.v1",
    "tribe.analytics.v1",
    DEAD_LETTER_TOPIC,
];

/// An idempotent Kafka producer (acks=all, enable.idempotence=true).
pub fn producer(kafka: &KafkaConfig) -> anyhow::Result<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "30000")
        // A few milliseconds let one relay round's records share a batch per partition.
        .set("linger.ms", "5")
        .create()
        .context("create Kafka producer")
}

/// Creates the given topics if missing (the brokers do not auto-create them). Existing
/// topics are left as they are, whatever their layout.
pub async fn ensure_topics(
    kafka: &KafkaConfig,
    logical_topics: &[&str],
    layout: TopicLayout,
) -> anyhow::Result<()> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .create()
        .context("create Kafka admin client")?;
    let names: Vec<String> = logical_topics.iter().map(|t| kafka.topic(t)).collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| {
            NewTopic::new(
                n,
                layout.partitions,
                TopicReplication::Fixed(layout.replication),
            )
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let created = tokio::time::timeout(
        Duration::from_secs(20),
        admin.create_topics(&topics, &options),
    )
    .await
    .map_err(|_| anyhow::anyhow!("broker at {} did not answer within 20s", kafka.brokers))?;
    for result in created.context("create topics")? {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => anyhow::bail!("create topic {topic}: {code}"),
        }
    }
    Ok(())
}
