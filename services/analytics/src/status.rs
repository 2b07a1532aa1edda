//! GetConsumerStatus: committed offsets, end offsets, lag and the last processed event
//! time of the rollup consumer, per topic partition.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use sqlx::PgPool;
use tonic::Status;
use tribe_kit::auth::Principal;
use tribe_kit::config::KafkaConfig;
use tribe_kit::{ApiError, Violations};
use tribe_proto::analytics::v1 as pb;

use crate::ingest::{GROUP, TOPICS};
use crate::time::timestamp;
use crate::views::status;

/// Admins and service credentials only; the method's table entry is Public because the
/// kit has no "admin or internal" policy, so this is the check.
pub fn authorize(principal: &Principal) -> Result<(), Status> {
    match principal {
        Principal::Service(_) => Ok(()),
        Principal::User(user) if user.is_admin() => Ok(()),
        Principal::User(_) => Err(status(ApiError::permission_denied("consumer status is for admins and services"))),
        Principal::Anonymous => Err(status(ApiError::unauthenticated("UNAUTHENTICATED", "an access token is required"))),
    }
}

/// Reads consumer progress from the broker and the database.
#[derive(Debug, Clone)]
pub struct StatusReader {
    pool: PgPool,
    kafka: KafkaConfig,
}

/// (topic, partition, committed, end) of one partition.
type Offsets = Vec<(String, i32, i64, i64)>;

fn broker_offsets(kafka: &KafkaConfig, group: &str, topics: &[String]) -> anyhow::Result<Offsets> {
    let timeout = Duration::from_secs(5);
    let consumer: BaseConsumer =
        ClientConfig::new().set("bootstrap.servers", &kafka.brokers).set("group.id", group).set("enable.auto.commit", "false").create()?;
    let mut list = TopicPartitionList::new();
    for topic in topics {
        let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            list.add_partition(topic, partition.id());
        }
    }
    let committed = consumer.committed_offsets(list, timeout)?;
    let mut out = Vec::new();
    for element in committed.elements() {
        let (_, high) = consumer.fetch_watermarks(element.topic(), element.partition(), timeout)?;
        let offset = match element.offset() {
            Offset::Offset(o) if o >= 0 => o,
            _ => -1,
        };
        out.push((element.topic().to_string(), element.partition(), offset, high));
    }
    out.sort();
    Ok(out)
}

impl StatusReader {
    pub fn new(pool: PgPool, kafka: KafkaConfig) -> Self {
        Self { pool, kafka }
    }

    pub async fn status(&self, req: pb::GetConsumerStatusRequest) -> Result<pb::ConsumerStatus, Status> {
        let mut v = Violations::new();
        for (i, topic) in req.topics.iter().enumerate() {
            if !TOPICS.contains(&topic.as_str()) {
                v.add(format!("topics[{i}]"), format!("not a consumed topic (one of {})", TOPICS.join(", ")));
            }
        }
        v.finish().map_err(status)?;
        let logical: Vec<String> = if req.topics.is_empty() { TOPICS.iter().map(|t| t.to_string()).collect() } else { req.topics };
        let physical: HashMap<String, String> = logical.iter().map(|t| (self.kafka.topic(t), t.clone())).collect();
        let group = self.kafka.topic(GROUP);
        let (kafka, names, group_name) = (self.kafka.clone(), physical.keys().cloned().collect::<Vec<_>>(), group.clone());
        let offsets = tokio::task::spawn_blocking(move || broker_offsets(&kafka, &group_name, &names))
            .await
            .map_err(|e| status(ApiError::internal(e)))?
            .map_err(|err| {
                tracing::warn!(error = format!("{err:#}"), "consumer status: broker unreachable");
                status(ApiError::unavailable("BROKER_UNAVAILABLE", "the event broker cannot be reached"))
            })?;
        let progress: Vec<(String, DateTime<Utc>, DateTime<Utc>)> =
            sqlx::query_as("SELECT topic, last_event_time, last_process_time FROM consumer_progress")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| status(e.into()))?;
        let progress: HashMap<String, (DateTime<Utc>, DateTime<Utc>)> = progress.into_iter().map(|(t, e, p)| (t, (e, p))).collect();
        let now = Utc::now();
        let mut watermark: Option<DateTime<Utc>> = None;
        let mut partitions = Vec::with_capacity(offsets.len());
        for (topic, partition, committed, end) in offsets {
            let lag = if committed < 0 { end } else { (end - committed).max(0) };
            let times = physical.get(&topic).and_then(|logical| progress.get(logical)).copied();
            if lag > 0 {
                // A partition still behind holds the watermark at its last event (or at the
                // epoch when it never processed one).
                let held = times.map(|t| t.0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
                watermark = Some(watermark.map_or(held, |w| w.min(held)));
            }
            partitions.push(pb::ConsumerPartitionStatus {
                topic,
                partition,
                committed_offset: committed,
                end_offset: end,
                lag,
                last_event_time: times.map(|t| timestamp(t.0)),
                last_process_time: times.map(|t| timestamp(t.1)),
            });
        }
        Ok(pb::ConsumerStatus {
            consumer_group: group,
            partitions,
            watermark_time: Some(timestamp(watermark.unwrap_or(now))),
            report_time: Some(timestamp(now)),
        })
    }
}

/// The consumers' watermark as last computed from the broker, shared with the views.
#[derive(Debug, Clone, Default)]
pub struct Watermark(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Watermark {
    pub fn get(&self) -> Option<DateTime<Utc>> {
        self.0.read().ok().and_then(|w| *w)
    }

    fn set(&self, value: DateTime<Utc>) {
        if let Ok(mut w) = self.0.write() {
            *w = Some(value);
        }
    }
}

/// Recomputes the watermark from offsets and progress every `every` until `stop`; a
/// broker that cannot be reached leaves the last value.
pub async fn refresh(reader: StatusReader, watermark: Watermark, every: Duration, stop: impl std::future::Future<Output = ()>) {
    tokio::pin!(stop);
    loop {
        match reader.status(pb::GetConsumerStatusRequest::default()).await {
            Ok(status) => {
                if let Some(t) = status.watermark_time.as_ref().and_then(crate::time::datetime) {
                    watermark.set(t);
                }
            }
            Err(err) => tracing::debug!(error = %err.message(), "watermark refresh failed"),
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
