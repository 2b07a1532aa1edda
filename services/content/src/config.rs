//! Configuration of the content service (`TRIBE_CONTENT_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, PageSecret, RedisConfig, ServerConfig,
    WorkerConfig,
};
use tribe_kit::scylla::CqlConfig;

use crate::limits::Allowances;

/// Everything the content service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_CONTENT_DATABASE_URL`, `TRIBE_CONTENT_DB_MAX_CONNECTIONS`, `TRIBE_CONTENT_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_REDIS_URL`, `TRIBE_CONTENT_REDIS_PREFIX` (default "tribe:content:"):
    /// rate-limit counters and the post and author caches. Unreachable = no limits and no
    /// cache, never failed reads.
    pub redis: RedisConfig,
    /// Hourly publishing allowances per user.
    pub limits: Allowances,
    /// `TRIBE_CONTENT_POST_CACHE_TTL` (default 10m; 0 disables): lifetime of cached post
    /// bodies in Redis.
    pub post_cache_ttl: Duration,
    /// `TRIBE_CONTENT_USER_CACHE_TTL` (default 60s; 0 disables): lifetime of cached author
    /// summaries in Redis.
    pub user_cache_ttl: Duration,
    /// `TRIBE_SERVICE_KEY_FILE`: this service's ES256 key for service credentials (calls
    /// to the user service's internal RPCs). Without it, fan-out and author hydration
    /// cannot reach the user service.
    pub service_key_file: Option<PathBuf>,
    /// `TRIBE_CONTENT_USER_URL` (default http://127.0.0.1:50051).
    pub user_url: String,
    /// Home timelines on ScyllaDB when `TRIBE_SCYLLA_NODES` is set (keyspace
    /// `TRIBE_CONTENT_SCYLLA_KEYSPACE`, default tribe_content; replication
    /// `TRIBE_CONTENT_SCYLLA_REPLICATION`, default 3; see `CqlConfig::from_env`); `None` =
    /// timelines in Postgres.
    pub cql: Option<CqlConfig>,
    /// `TRIBE_CONTENT_FANOUT_THRESHOLD` (default 10000): authors with more followers are
    /// merged into feeds at read time instead of being pushed.
    pub fanout_threshold: u64,
    /// `TRIBE_CONTENT_TIMELINE_CAP` (default 800): entries kept per home timeline.
    pub timeline_cap: usize,
    /// `TRIBE_CONTENT_MEDIA_HOSTS` (comma separated, default trainertribe.dev): media URLs
    /// must be https on one of these hosts or their subdomains.
    pub media_hosts: Vec<String>,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: PageSecret,
    /// `TRIBE_CONTENT_OUTBOX_RELAY`, `TRIBE_CONTENT_CONSUME_EVENTS` (the fan-out consumer).
    pub workers: WorkerConfig,
    /// `TRIBE_CONTENT_TRENDING_INTERVAL` (default 1m; 0 disables): how often trending
    /// snapshots are recomputed (HOUR every tick, DAY and WEEK every fifth).
    pub trending_interval: Duration,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        let page_token_secret = config::page_token_secret()?;
        let list = |raw: Option<String>| -> Vec<String> {
            raw.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        let media_hosts = list(Some(
            config::var("TRIBE_CONTENT_MEDIA_HOSTS").unwrap_or_else(|| "trainertribe.dev".into()),
        ));
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_CONTENT", "127.0.0.1:50052")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_CONTENT", "tribe_content")?,
            redis: RedisConfig::from_env("TRIBE_CONTENT", "content"),
            limits: Allowances {
                posts_per_hour: config::parse_or("TRIBE_CONTENT_POSTS_PER_HOUR", 60)?,
                comments_per_hour: config::parse_or("TRIBE_CONTENT_COMMENTS_PER_HOUR", 300)?,
                reports_per_hour: config::parse_or("TRIBE_CONTENT_REPORTS_PER_HOUR", 30)?,
            },
            post_cache_ttl: config::duration_or(
                "TRIBE_CONTENT_POST_CACHE_TTL",
                Duration::from_secs(600),
            )?,
            user_cache_ttl: config::duration_or(
                "TRIBE_CONTENT_USER_CACHE_TTL",
                Duration::from_secs(60),
            )?,
            service_key_file: config::service_key_file(),
            user_url: config::var("TRIBE_CONTENT_USER_URL")
                .unwrap_or_else(|| "http://127.0.0.1:50051".into()),
            cql: CqlConfig::from_env("TRIBE_CONTENT", "tribe_content")?,
            fanout_threshold: config::parse_or("TRIBE_CONTENT_FANOUT_THRESHOLD", 10_000)?,
            timeline_cap: config::parse_or("TRIBE_CONTENT_TIMELINE_CAP", 800)?,
            media_hosts,
            page_token_secret,
            workers: WorkerConfig::from_env("TRIBE_CONTENT")?,
            trending_interval: config::duration_or(
                "TRIBE_CONTENT_TRENDING_INTERVAL",
                Duration::from_secs(60),
            )?,
        })
    }
}
