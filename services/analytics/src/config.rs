//! Configuration of the analytics service (`TRIBE_ANALYTICS_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::config::{self, AuthConfig, KafkaConfig, ServerConfig};

/// Everything the analytics service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_ANALYTICS_DATABASE_URL`.
    pub database_url: String,
    /// `TRIBE_ANALYTICS_DB_MAX_CONNECTIONS` (default 20).
    pub db_max_connections: u32,
    /// `TRIBE_REDIS_URL` (default redis://127.0.0.1:6379).
    pub redis_url: String,
    /// `TRIBE_ANALYTICS_REDIS_PREFIX` (default "tribe:analytics:").
    pub redis_prefix: String,
    /// `TRIBE_ANALYTICS_TRACK_EVENTS_PER_MINUTE` (default 1200): tracked events one user
    /// may send per minute before TrackEvents answers RESOURCE_EXHAUSTED.
    pub track_events_per_minute: u64,
    /// `TRIBE_ANALYTICS_RAW_RETENTION_DAYS` (default 400): raw-event partitions that end
    /// longer ago than this are dropped. Rollups are kept.
    pub raw_retention: Duration,
    /// `TRIBE_ANALYTICS_CONTENT_URL`: the content service, asked for the author of posts
    /// whose content events have not arrived yet; unset = no fallback.
    pub content_url: Option<String>,
    /// `TRIBE_SERVICE_KEY_FILE`: this service's ES256 key for service credentials (the
    /// content fallback needs it).
    pub service_key_file: Option<PathBuf>,
    /// `TRIBE_ANALYTICS_MIGRATE` (default true): apply migrations at startup.
    pub migrate: bool,
    /// `TRIBE_ANALYTICS_OUTBOX_RELAY` (default true): publish tracked events from this
    /// process.
    pub outbox_relay: bool,
    /// `TRIBE_ANALYTICS_CONSUME_EVENTS` (default true): run the rollup consumer.
    pub consume_events: bool,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_ANALYTICS", "127.0.0.1:50057")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database_url: config::var("TRIBE_ANALYTICS_DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/tribe_analytics".into()),
            db_max_connections: config::parse_or("TRIBE_ANALYTICS_DB_MAX_CONNECTIONS", 20)?,
            redis_url: config::var("TRIBE_REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            redis_prefix: config::var("TRIBE_ANALYTICS_REDIS_PREFIX").unwrap_or_else(|| "tribe:analytics:".into()),
            track_events_per_minute: config::parse_or("TRIBE_ANALYTICS_TRACK_EVENTS_PER_MINUTE", 1200)?,
            raw_retention: Duration::from_secs(config::parse_or::<u64>("TRIBE_ANALYTICS_RAW_RETENTION_DAYS", 400)? * 86_400),
            content_url: config::var("TRIBE_ANALYTICS_CONTENT_URL"),
            service_key_file: config::var("TRIBE_SERVICE_KEY_FILE").map(PathBuf::from),
            migrate: config::parse_or("TRIBE_ANALYTICS_MIGRATE", true)?,
            outbox_relay: config::parse_or("TRIBE_ANALYTICS_OUTBOX_RELAY", true)?,
            consume_events: config::parse_or("TRIBE_ANALYTICS_CONSUME_EVENTS", true)?,
        })
    }
}
