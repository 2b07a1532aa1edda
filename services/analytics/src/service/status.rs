//! GetConsumerStatus: the rollup consumer's committed offsets, the broker's end offsets
//! and lag per partition, with the time of the last event applied; and the background
//! refresh of the watermark the views report. Who may call it (admins and service
//! credentials) is the policy table's `AdminOrInternal`.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tribe_kit::config::KafkaConfig;
use tribe_kit::{ApiError, Violations};
use tribe_proto::analytics::v1 as pb;

use super::AnalyticsService;
use crate::ingest::{GROUP, TOPICS};
use crate::store;
use crate::time::timestamp;

/// One partition's offsets as the broker reports them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PartitionOffsets {
    topic: String,
    partition: i32,
    /// The group's committed offset; -1 when it never committed.
    committed: i64,
    end: i64,
}

fn broker_offsets(
    kafka: &KafkaConfig,
    group: &str,
    topics: &[String],
) -> anyhow::Result<Vec<PartitionOffsets>> {
    let timeout = Duration::from_secs(5);
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
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
        out.push(PartitionOffsets {
            topic: element.topic().to_string(),
            partition: element.partition(),
            committed: offset,
            end: high,
        });
    }
    out.sort();
    Ok(out)
}

impl AnalyticsService {
    pub async fn consumer_status(
        &self,
        req: pb::GetConsumerStatusRequest,
    ) -> Result<pb::ConsumerStatus, ApiError> {
        let mut v = Violations::new();
        for (i, topic) in req.topics.iter().enumerate() {
            if !TOPICS.contains(&topic.as_str()) {
                v.add(
                    format!("topics[{i}]"),
                    format!("not a consumed topic (one of {})", TOPICS.join(", ")),
                );
            }
        }
        v.finish()?;
        let logical: Vec<String> = if req.topics.is_empty() {
            TOPICS.iter().map(|t| t.to_string()).collect()
        } else {
            req.topics
        };
        let physical: HashMap<String, String> = logical
            .iter()
            .map(|t| (self.kafka.topic(t), t.clone()))
            .collect();
        let group = self.kafka.topic(GROUP);
        let (kafka, names, group_name) = (
            self.kafka.clone(),
            physical.keys().cloned().collect::<Vec<_>>(),
            group.clone(),
        );
        let offsets =
            tokio::task::spawn_blocking(move || broker_offsets(&kafka, &group_name, &names))
                .await
                .map_err(ApiError::internal)?
                .map_err(|err| {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "consumer status: broker unreachable"
                    );
                    ApiError::unavailable(
                        "BROKER_UNAVAILABLE",
                        "the event broker cannot be reached",
                    )
                })?;
        let progress = store::status::progress(&self.pool).await?;
        let now = Utc::now();
        let mut watermark: Option<DateTime<Utc>> = None;
        let mut partitions = Vec::with_capacity(offsets.len());
        for PartitionOffsets {
            topic,
            partition,
            committed,
            end,
        } in offsets
        {
            let lag = if committed < 0 {
                end
            } else {
                (end - committed).max(0)
            };
            let times = physical
                .get(&topic)
                .and_then(|logical| progress.get(logical))
                .copied();
            if lag > 0 {
                // A partition still behind holds the watermark at its last event (or at the
                // epoch when it never processed one).
                let held = times
                    .map(|t| t.last_event)
                    .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
                watermark = Some(watermark.map_or(held, |w| w.min(held)));
            }
            partitions.push(pb::ConsumerPartitionStatus {
                topic,
                partition,
                committed_offset: committed,
                end_offset: end,
                lag,
                last_event_time: times.map(|t| timestamp(t.last_event)),
                last_process_time: times.map(|t| timestamp(t.last_process)),
            });
        }
        Ok(pb::ConsumerStatus {
            consumer_group: group,
            partitions,
            watermark_time: Some(timestamp(watermark.unwrap_or(now))),
            report_time: Some(timestamp(now)),
        })
    }

    /// Recomputes the views' watermark from offsets and progress every `every` until
    /// `stop`; a broker that cannot be reached leaves the last value.
    pub async fn refresh_watermark(
        self,
        every: Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        loop {
            match self
                .consumer_status(pb::GetConsumerStatusRequest::default())
                .await
            {
                Ok(status) => {
                    if let Some(t) = status
                        .watermark_time
                        .as_ref()
                        .and_then(crate::time::datetime)
                    {
                        self.watermark.set(t);
                    }
                }
                Err(err) => tracing::debug!(error = %err, "watermark refresh failed"),
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }
}
