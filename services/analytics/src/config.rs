//! Configuration of the analytics service (`TRIBE_ANALYTICS_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, RedisConfig, ServerConfig, WorkerConfig,
};

/// Everything the analytics service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_ANALYTICS_DATABASE_URL`, `TRIBE_ANALYTICS_DB_MAX_CONNECTIONS`, `TRIBE_ANALYTICS_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_REDIS_URL`, `TRIBE_ANALYTICS_REDIS_PREFIX` (default "tribe:analytics:"): rate-limit keys.
    pub redis: RedisConfig,
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
    /// content fallback needs it; read only when `content_url` is set).
    pub service_key_file: Option<PathBuf>,
    /// `TRIBE_ANALYTICS_OUTBOX_RELAY` (publish tracked events from this process) and
    /// `TRIBE_ANALYTICS_CONSUME_EVENTS` (run the rollup consumer and the watermark refresh).
    pub workers: WorkerConfig,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_ANALYTICS", "127.0.0.1:50057")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_ANALYTICS", "tribe_analytics")?,
            redis: RedisConfig::from_env("TRIBE_ANALYTICS", "analytics"),
            track_events_per_minute: config::parse_or(
                "TRIBE_ANALYTICS_TRACK_EVENTS_PER_MINUTE",
                1200,
            )?,
            raw_retention: Duration::from_secs(
                config::parse_or::<u64>("TRIBE_ANALYTICS_RAW_RETENTION_DAYS", 400)? * 86_400,
            ),
            content_url: config::var("TRIBE_ANALYTICS_CONTENT_URL"),
            service_key_file: config::service_key_file(),
            workers: WorkerConfig::from_env("TRIBE_ANALYTICS")?,
        })
    }
}
