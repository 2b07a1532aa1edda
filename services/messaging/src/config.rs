//! Configuration of the messaging service (`TRIBE_MESSAGING_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::config::{self, AuthConfig, KafkaConfig, ServerConfig};
use tribe_kit::scylla::CqlConfig;

/// Everything the messaging service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_MESSAGING_DATABASE_URL`.
    pub database_url: String,
    /// `TRIBE_MESSAGING_DB_MAX_CONNECTIONS` (default 20).
    pub db_max_connections: u32,
    /// `TRIBE_REDIS_URL` (default redis://127.0.0.1:6379).
    pub redis_url: String,
    /// `TRIBE_MESSAGING_REDIS_PREFIX` (default "tribe:messaging:").
    pub redis_prefix: String,
    /// `TRIBE_PAGE_TOKEN_SECRET`.
    pub page_token_secret: Vec<u8>,
    /// The ScyllaDB message store when `TRIBE_SCYLLA_NODES` is set (keyspace
    /// `TRIBE_MESSAGING_SCYLLA_KEYSPACE`, default tribe_messaging; replication
    /// `TRIBE_MESSAGING_SCYLLA_REPLICATION`, default 3; see `CqlConfig::from_env`); `None` =
    /// the PostgreSQL store.
    pub cql: Option<CqlConfig>,
    /// `TRIBE_MESSAGING_SCYLLA_BUCKET` (default 10 days): the time span of one message
    /// partition.
    pub scylla_bucket: Duration,
    pub limits: Limits,
    /// `TRIBE_MESSAGING_USER_URL` (e.g. http://127.0.0.1:50051): the user service, for
    /// existence checks and summaries; unset = ids are accepted as they are and
    /// summaries come from user events only.
    pub user_url: Option<String>,
    /// `TRIBE_SERVICE_KEY_FILE`: this service's own key for internal calls.
    pub service_key_file: Option<PathBuf>,
    /// `TRIBE_MESSAGING_HEARTBEAT` (default 25s): stream keep-alive interval.
    pub heartbeat: Duration,
    /// `TRIBE_MESSAGING_MIGRATE` (default true).
    pub migrate: bool,
    /// `TRIBE_MESSAGING_OUTBOX_RELAY` (default true).
    pub outbox_relay: bool,
    /// `TRIBE_MESSAGING_CONSUME_EVENTS` (default true): user and content events become
    /// notifications, blocks and stream revocations.
    pub consume_events: bool,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// `TRIBE_MESSAGING_SENDS_PER_WINDOW` (default 30).
    pub sends_per_window: u64,
    /// `TRIBE_MESSAGING_SEND_WINDOW` (default 10s).
    pub send_window: Duration,
    /// `TRIBE_MESSAGING_GROUPS_PER_HOUR` (default 20): CreateGroup calls per user and hour.
    pub groups_per_hour: u64,
    /// `TRIBE_MESSAGING_MAX_GROUP_MEMBERS` (default 256).
    pub max_group_members: i32,
    /// `TRIBE_MESSAGING_MAX_STREAMS_PER_USER` (default 10).
    pub max_streams_per_user: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            sends_per_window: 30,
            send_window: Duration::from_secs(10),
            groups_per_hour: 20,
            max_group_members: 256,
            max_streams_per_user: 10,
        }
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_MESSAGING", "127.0.0.1:50053")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database_url: config::var("TRIBE_MESSAGING_DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/tribe_messaging".into()),
            db_max_connections: config::parse_or("TRIBE_MESSAGING_DB_MAX_CONNECTIONS", 20)?,
            redis_url: config::var("TRIBE_REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            redis_prefix: config::var("TRIBE_MESSAGING_REDIS_PREFIX").unwrap_or_else(|| "tribe:messaging:".into()),
            page_token_secret: config::page_token_secret()?,
            cql: CqlConfig::from_env("TRIBE_MESSAGING", "tribe_messaging")?,
            scylla_bucket: config::duration_or("TRIBE_MESSAGING_SCYLLA_BUCKET", Duration::from_secs(10 * 24 * 3600))?,
            limits: Limits {
                sends_per_window: config::parse_or("TRIBE_MESSAGING_SENDS_PER_WINDOW", 30)?,
                send_window: config::duration_or("TRIBE_MESSAGING_SEND_WINDOW", Duration::from_secs(10))?,
                groups_per_hour: config::parse_or("TRIBE_MESSAGING_GROUPS_PER_HOUR", 20)?,
                max_group_members: config::parse_or("TRIBE_MESSAGING_MAX_GROUP_MEMBERS", 256)?,
                max_streams_per_user: config::parse_or("TRIBE_MESSAGING_MAX_STREAMS_PER_USER", 10)?,
            },
            user_url: config::var("TRIBE_MESSAGING_USER_URL"),
            service_key_file: config::var("TRIBE_SERVICE_KEY_FILE").map(PathBuf::from),
            heartbeat: config::duration_or("TRIBE_MESSAGING_HEARTBEAT", Duration::from_secs(25))?,
            migrate: config::parse_or("TRIBE_MESSAGING_MIGRATE", true)?,
            outbox_relay: config::parse_or("TRIBE_MESSAGING_OUTBOX_RELAY", true)?,
            consume_events: config::parse_or("TRIBE_MESSAGING_CONSUME_EVENTS", true)?,
        })
    }
}
