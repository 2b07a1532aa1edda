//! Domain events: the transactional outbox every Postgres-backed service writes in the
//! same transaction as its change, the relay that publishes it to Kafka with an
//! idempotent producer (`crate::kafka`).
//!
//! A row is marked sent only after the broker acknowledged it. If a relay dies between
//! publishing and marking, the rows it had attempted carry `attempts > 0`; before
//! publishing such a row again, the next relay looks for its `event_id` in the recent
//! tail of the topic and only marks it sent when it is already there, so a crash does not
//! put a second copy on the broker. Should that check itself fail, the row is published
//! again (same `event_id`) and consumers, which deduplicate on it, still see it once.
//! Each service database has:
//! ```sql
//! CREATE TABLE outbox (
//!   id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL,
//!   key text NOT NULL, payload bytea NOT NULL, traceparent text NOT NULL DEFAULT '',
//!   created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz,
//!   attempts int NOT NULL DEFAULT 0, leased_until timestamptz);
//! CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
//! ```

use std::time::Duration;

use prost::Message;
use std::collections::HashSet;

use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use sqlx::{PgConnection, PgPool};
use tribe_proto::events::v1::{Event, TraceContext, event::Payload};

use crate::config::KafkaConfig;
use crate::error::ApiError;
use crate::kafka::producer;

/// Builds the envelope for `payload`, stamped with a new UUIDv7, the current time and
/// the current trace context.
pub fn envelope(producer: &str, aggregate_id: &str, actor_id: &str, payload: Payload) -> Event {
    let now = chrono::Utc::now();
    let mut trace = TraceContext::default();
    for (key, value) in crate::telemetry::current_trace_headers() {
        match key.as_str() {
            "traceparent" => trace.traceparent = value,
            "tracestate" => trace.tracestate = value,
            _ => {}
        }
    }
    Event {
        event_id: uuid::Uuid::now_v7().to_string(),
        occur_time: Some(prost_types::Timestamp {
            seconds: now.timestamp(),
            nanos: now.timestamp_subsec_nanos() as i32,
        }),
        actor_id: actor_id.to_string(),
        trace: Some(trace),
        aggregate_id: aggregate_id.to_string(),
        producer: producer.to_string(),
        payload: Some(payload),
    }
}

/// Writes an event into the outbox inside the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, topic: &str, event: &Event) -> Result<(), ApiError> {
    let event_id = uuid::Uuid::parse_str(&event.event_id).map_err(ApiError::internal)?;
    let traceparent = event
        .trace
        .as_ref()
        .map(|t| t.traceparent.clone())
        .unwrap_or_default();
    sqlx::query("INSERT INTO outbox (event_id, topic, key, payload, traceparent) VALUES ($1, $2, $3, $4, $5)")
        .bind(event_id)
        .bind(topic)
        .bind(&event.aggregate_id)
        .bind(event.encode_to_vec())
        .bind(traceparent)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// (id, event_id, topic, key, payload, traceparent, attempts) of one outbox row.
type OutboxRow = (i64, uuid::Uuid, String, String, Vec<u8>, String, i32);

/// What the relay does after the broker acknowledged a batch; tests use `CrashBeforeMark`
/// to simulate dying between publish and mark-sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPublish {
    MarkSent,
    CrashBeforeMark,
}

/// Publishes outbox rows in id order.
#[derive(Clone)]
pub struct OutboxRelay {
    pool: PgPool,
    producer: FutureProducer,
    kafka: KafkaConfig,
    batch_size: i64,
    poll_interval: Duration,
    lease: Duration,
}

impl std::fmt::Debug for OutboxRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRelay")
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl OutboxRelay {
    pub fn new(pool: PgPool, kafka: KafkaConfig) -> anyhow::Result<Self> {
        Ok(Self {
            producer: producer(&kafka)?,
            pool,
            kafka,
            batch_size: 200,
            poll_interval: Duration::from_millis(100),
            lease: Duration::from_secs(60),
        })
    }

    /// How long a claimed batch stays reserved for the relay that claimed it; after a
    /// crash, its rows are picked up again once the lease ran out.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Publishes one batch; returns how many rows were published.
    pub async fn relay_once(&self, after: AfterPublish) -> anyhow::Result<usize> {
        // Claim: lease the rows and count the attempt in a committed transaction, so a
        // relay that dies while publishing leaves a trace its successor can act on.
        // SKIP LOCKED plus the lease lets several relays share the table.
        let mut tx = self.pool.begin().await?;
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT id, event_id, topic, key, payload, traceparent, attempts FROM outbox
             WHERE sent_at IS NULL AND (leased_until IS NULL OR leased_until < now())
             ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, leased_until = now() + make_interval(secs => $2) WHERE id = ANY($1)")
            .bind(&ids)
            .bind(self.lease.as_secs_f64())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;

        let retried: Vec<(&str, String)> = rows
            .iter()
            .filter(|r| r.6 > 0)
            .map(|r| (r.2.as_str(), r.1.to_string()))
            .collect();
        let already = if retried.is_empty() {
            HashSet::new()
        } else {
            match self.published_event_ids(&retried).await {
                Ok(found) => found,
                Err(err) => {
                    tracing::warn!(
                        error = format!("{err:#}"),
                        "could not check the topic for earlier attempts; republishing"
                    );
                    HashSet::new()
                }
            }
        };

        let topics: Vec<String> = rows.iter().map(|r| self.kafka.topic(&r.2)).collect();
        let mut sends = Vec::with_capacity(rows.len());
        for ((_, event_id, _, key, payload, traceparent, _), topic) in rows.iter().zip(&topics) {
            let event_id = event_id.to_string();
            if already.contains(&event_id) {
                sends.push(futures::future::Either::Left(futures::future::ready(
                    Ok(()),
                )));
                continue;
            }
            let mut headers = OwnedHeaders::new()
                .insert(Header {
                    key: "event_id",
                    value: Some(event_id.as_str()),
                })
                .insert(Header {
                    key: "content-type",
                    value: Some("application/x-protobuf; messageType=trainertribe.events.v1.Event"),
                });
            if !traceparent.is_empty() {
                headers = headers.insert(Header {
                    key: "traceparent",
                    value: Some(traceparent.as_str()),
                });
            }
            let record = FutureRecord::to(topic)
                .key(key.as_str())
                .payload(payload.as_slice())
                .headers(headers);
            let send = self.producer.send(record, Duration::from_secs(30));
            sends.push(futures::future::Either::Right(async move {
                send.await.map(|_| ())
            }));
        }
        let results = futures::future::join_all(sends).await;
        // Mark the acknowledged prefix; the rest is released and retried in order.
        let acked = results.iter().take_while(|r| r.is_ok()).count();
        if let Some(Err((err, _))) = results.get(acked) {
            tracing::warn!(error = %err, acked, "outbox publish failed; will retry");
        }
        if after == AfterPublish::CrashBeforeMark {
            anyhow::bail!("simulated crash after publishing {acked} events");
        }
        sqlx::query("UPDATE outbox SET sent_at = now(), leased_until = NULL WHERE id = ANY($1)")
            .bind(&ids[..acked])
            .execute(&self.pool)
            .await?;
        sqlx::query("UPDATE outbox SET leased_until = NULL WHERE id = ANY($1)")
            .bind(&ids[acked..])
            .execute(&self.pool)
            .await?;
        Ok(acked)
    }

    /// Which of `wanted` ((logical topic, event id)) are already in the last
    /// `RECOVERY_SCAN` records of each partition of their topics.
    async fn published_event_ids(
        &self,
        wanted: &[(&str, String)],
    ) -> anyhow::Result<HashSet<String>> {
        const RECOVERY_SCAN: i64 = 5_000;
        let wanted_ids: HashSet<&str> = wanted.iter().map(|(_, id)| id.as_str()).collect();
        let topics: HashSet<String> = wanted.iter().map(|(t, _)| self.kafka.topic(t)).collect();
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.kafka.brokers)
            .set(
                "group.id",
                format!("outbox-recovery-{}", uuid::Uuid::now_v7()),
            )
            .set("enable.auto.commit", "false")
            .create()?;
        let timeout = Duration::from_secs(10);
        let mut assignment = TopicPartitionList::new();
        let mut ends = std::collections::HashMap::new();
        for topic in &topics {
            let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
            for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
                let (low, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
                if high > low {
                    assignment.add_partition_offset(
                        topic,
                        partition.id(),
                        Offset::Offset((high - RECOVERY_SCAN).max(low)),
                    )?;
                    ends.insert((topic.clone(), partition.id()), high);
                }
            }
        }
        let mut found = HashSet::new();
        if ends.is_empty() {
            return Ok(found);
        }
        consumer.assign(&assignment)?;
        // Read each partition up to the high watermark taken above: whatever an earlier
        // attempt published before this relay claimed the rows lies below it.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !ends.is_empty() {
            let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = match tokio::time::timeout(wait, consumer.recv()).await {
                Ok(message) => message?,
                Err(_) => anyhow::bail!("timed out scanning for earlier attempts"),
            };
            let id = message
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "event_id").and_then(|h| h.value));
            if let Some(id) = id
                .and_then(|v| std::str::from_utf8(v).ok())
                .filter(|id| wanted_ids.contains(id))
            {
                found.insert(id.to_string());
            }
            let key = (message.topic().to_string(), message.partition());
            if ends
                .get(&key)
                .is_some_and(|high| message.offset() + 1 >= *high)
            {
                ends.remove(&key);
            }
            if found.len() == wanted_ids.len() {
                break;
            }
        }
        tracing::info!(
            checked = wanted.len(),
            found = found.len(),
            "outbox recovery scan"
        );
        Ok(found)
    }

    /// Runs until `shutdown` resolves, then publishes what is left once more.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut backoff = self.poll_interval;
        loop {
            match self.relay_once(AfterPublish::MarkSent).await {
                Ok(n) if n > 0 => {
                    backoff = self.poll_interval;
                    continue;
                }
                Ok(_) => backoff = self.poll_interval,
                Err(err) => {
                    tracing::warn!(error = format!("{err:#}"), "outbox relay error");
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
        if let Err(err) = self.relay_once(AfterPublish::MarkSent).await {
            tracing::warn!(error = format!("{err:#}"), "final outbox flush failed");
        }
    }
}
