//! Idempotent consumption of domain events: each event's effect and a record of its
//! `event_id` commit in one database transaction, and the Kafka offset is committed only
//! afterwards. A redelivered event finds its id already recorded and is skipped; a
//! crash before the offset commit replays events whose effects are already durable,
//! which the same check absorbs. Undecodable or unknown events go to a dead-letter topic
//! with the reason, and consumption continues.
//!
//! Each consuming service database has:
//! ```sql
//! CREATE TABLE processed_events (
//!   consumer text NOT NULL, event_id uuid NOT NULL,
//!   processed_at timestamptz NOT NULL DEFAULT now(),
//!   PRIMARY KEY (consumer, event_id));
//! ```

use std::time::Duration;

use anyhow::Context;
use prost::Message as _;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};
use sqlx::{PgConnection, PgPool};
use tribe_proto::events::v1::Event;

use crate::config::KafkaConfig;
use crate::kafka::DEAD_LETTER_TOPIC;

/// Applies one event. Runs inside the transaction that also records the event id.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// An error rolls the transaction back; the event is retried, and after
    /// `max_attempts` failures it is dead-lettered.
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()>;
}

/// What one consumer group reads.
#[derive(Debug, Clone)]
pub struct ConsumerConfig {
    /// Consumer group and the `consumer` key in `processed_events` ("analytics").
    pub group: String,
    /// Logical topics ("tribe.user.v1"); the Kafka config adds any suffix.
    pub topics: Vec<String>,
    /// Attempts of a failing handler before the event is dead-lettered (default 5).
    pub max_attempts: u32,
}

impl ConsumerConfig {
    pub fn new(group: impl Into<String>, topics: &[&str]) -> Self {
        Self {
            group: group.into(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            max_attempts: 5,
        }
    }
}

/// Consumes events into `handler` until shut down.
pub struct EventConsumer<H> {
    pool: PgPool,
    kafka: KafkaConfig,
    config: ConsumerConfig,
    handler: H,
    dead_letters: FutureProducer,
}

impl<H> std::fmt::Debug for EventConsumer<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventConsumer")
            .field("group", &self.config.group)
            .finish_non_exhaustive()
    }
}

enum Outcome {
    Applied,
    Duplicate,
    DeadLetter(String),
}

impl<H: EventHandler> EventConsumer<H> {
    pub fn new(
        pool: PgPool,
        kafka: KafkaConfig,
        config: ConsumerConfig,
        handler: H,
    ) -> anyhow::Result<Self> {
        let dead_letters = crate::kafka::producer(&kafka)?;
        Ok(Self {
            pool,
            kafka,
            config,
            handler,
            dead_letters,
        })
    }

    /// Runs until `shutdown` resolves; the event in hand is finished first.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.kafka.brokers)
            .set("group.id", self.kafka.topic(&self.config.group))
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create()
            .context("create Kafka consumer")?;
        let topics: Vec<String> = self
            .config
            .topics
            .iter()
            .map(|t| self.kafka.topic(t))
            .collect();
        consumer
            .subscribe(&topics.iter().map(String::as_str).collect::<Vec<_>>())
            .context("subscribe")?;
        tracing::info!(group = %self.config.group, topics = ?topics, "consuming events");
        tokio::pin!(shutdown);
        loop {
            let message = tokio::select! {
                _ = &mut shutdown => break,
                message = consumer.recv() => message,
            };
            let message = match message {
                Ok(message) => message,
                Err(err) => {
                    tracing::warn!(error = %err, "consume error");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            match self.process(&message).await {
                Outcome::Applied | Outcome::Duplicate => {}
                Outcome::DeadLetter(reason) => self.dead_letter(&message, &reason).await?,
            }
            // Only now is the effect durable (or the event parked): move the offset.
            if let Err(err) = consumer.commit_message(&message, CommitMode::Async) {
                tracing::warn!(error = %err, "offset commit failed; the event may be redelivered and will be skipped");
            }
        }
        if let Err(err) = consumer.commit_consumer_state(CommitMode::Sync) {
            tracing::debug!(error = %err, "final offset commit");
        }
        Ok(())
    }

    async fn process(&self, message: &BorrowedMessage<'_>) -> Outcome {
        let Some(payload) = message.payload() else {
            return Outcome::DeadLetter("empty record".into());
        };
        let event = match Event::decode(payload) {
            Ok(event) => event,
            Err(err) => {
                return Outcome::DeadLetter(format!("not a trainertribe.events.v1.Event: {err}"));
            }
        };
        let Ok(event_id) = uuid::Uuid::parse_str(&event.event_id) else {
            return Outcome::DeadLetter("event_id is not a UUID".into());
        };
        if event.payload.is_none() {
            return Outcome::DeadLetter("unknown payload type (newer producer?)".into());
        }
        let mut attempt = 0;
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.apply(event_id, &event).await {
                Ok(true) => return Outcome::Applied,
                Ok(false) => return Outcome::Duplicate,
                Err(ApplyError::Database(err)) => {
                    // The database is the durable side; wait for it rather than park events.
                    tracing::warn!(error = %err, "database unavailable while consuming; retrying");
                }
                // A store the handler writes to is unreachable (a CQL cluster outage): like
                // the database above, wait for it instead of dead-lettering events that
                // would succeed a minute later.
                Err(ApplyError::Handler(err))
                    if err
                        .downcast_ref::<crate::ApiError>()
                        .is_some_and(|e| e.code() == tonic::Code::Unavailable) =>
                {
                    tracing::warn!(error = format!("{err:#}"), event_id = %event_id, "store unavailable while consuming; retrying");
                }
                Err(ApplyError::Handler(err)) => {
                    attempt += 1;
                    tracing::warn!(error = format!("{err:#}"), attempt, event_id = %event_id, "event handler failed");
                    if attempt >= self.config.max_attempts {
                        return Outcome::DeadLetter(format!(
                            "handler failed {attempt} times: {err:#}"
                        ));
                    }
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Applies the event once; `Ok(false)` when it was applied before.
    async fn apply(&self, event_id: uuid::Uuid, event: &Event) -> Result<bool, ApplyError> {
        let mut tx = self.pool.begin().await.map_err(ApplyError::Database)?;
        let fresh = sqlx::query("INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(&self.config.group)
            .bind(event_id)
            .execute(&mut *tx)
            .await
            .map_err(ApplyError::Database)?
            .rows_affected()
            == 1;
        if !fresh {
            return Ok(false);
        }
        self.handler
            .handle(&mut tx, event)
            .await
            .map_err(ApplyError::Handler)?;
        tx.commit().await.map_err(ApplyError::Database)?;
        Ok(true)
    }

    async fn dead_letter(&self, message: &BorrowedMessage<'_>, reason: &str) -> anyhow::Result<()> {
        let source = message.topic().to_string();
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let mut headers = OwnedHeaders::new()
            .insert(Header {
                key: "dlq-reason",
                value: Some(reason),
            })
            .insert(Header {
                key: "dlq-source-topic",
                value: Some(source.as_str()),
            })
            .insert(Header {
                key: "dlq-source-partition",
                value: Some(partition.as_str()),
            })
            .insert(Header {
                key: "dlq-source-offset",
                value: Some(offset.as_str()),
            })
            .insert(Header {
                key: "dlq-consumer",
                value: Some(self.config.group.as_str()),
            });
        if let Some(original) = message.headers() {
            for header in original
                .iter()
                .filter(|h| h.key == "event_id" || h.key == "traceparent")
            {
                headers = headers.insert(Header {
                    key: header.key,
                    value: header.value,
                });
            }
        }
        let topic = self.kafka.topic(DEAD_LETTER_TOPIC);
        let key = message.key().unwrap_or_default();
        let record = FutureRecord::to(&topic)
            .key(key)
            .payload(message.payload().unwrap_or_default())
            .headers(headers);
        self.dead_letters
            .send(record, Duration::from_secs(30))
            .await
            .map_err(|(err, _)| anyhow::anyhow!("dead-letter publish failed: {err}"))?;
        tracing::warn!(reason, topic = %source, offset = message.offset(), "event dead-lettered");
        Ok(())
    }
}

enum ApplyError {
    Database(sqlx::Error),
    Handler(anyhow::Error),
}
