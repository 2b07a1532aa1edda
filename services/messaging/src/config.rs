//! Configuration of the messaging service (`TRIBE_MESSAGING_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, PageSecret, RedisConfig, ServerConfig,
    WorkerConfig,
};
use tribe_kit::scylla::CqlConfig;

/// Everything the messaging service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_MESSAGING_DATABASE_URL`, `TRIBE_MESSAGING_DB_MAX_CONNECTIONS`,
    /// `TRIBE_MESSAGING_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_REDIS_URL`, `TRIBE_MESSAGING_REDIS_PREFIX` (default "tribe:messaging:").
    pub redis: RedisConfig,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: PageSecret,
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
    /// `TRIBE_MESSAGING_OUTBOX_RELAY`, `TRIBE_MESSAGING_CONSUME_EVENTS` (user and content
    /// events become notifications, the user replica and stream revocations).
    pub workers: WorkerConfig,
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

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_MESSAGING", "127.0.0.1:50053")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_MESSAGING", "tribe_messaging")?,
            redis: RedisConfig::from_env("TRIBE_MESSAGING", "messaging"),
            page_token_secret: config::page_token_secret()?,
            cql: CqlConfig::from_env("TRIBE_MESSAGING", "tribe_messaging")?,
            scylla_bucket: config::duration_or(
                "TRIBE_MESSAGING_SCYLLA_BUCKET",
                Duration::from_secs(10 * 24 * 3600),
            )?,
            limits: Limits {
                sends_per_window: config::parse_or("TRIBE_MESSAGING_SENDS_PER_WINDOW", 30)?,
                send_window: config::duration_or(
                    "TRIBE_MESSAGING_SEND_WINDOW",
                    Duration::from_secs(10),
                )?,
                groups_per_hour: config::parse_or("TRIBE_MESSAGING_GROUPS_PER_HOUR", 20)?,
                max_group_members: config::parse_or("TRIBE_MESSAGING_MAX_GROUP_MEMBERS", 256)?,
                max_streams_per_user: config::parse_or("TRIBE_MESSAGING_MAX_STREAMS_PER_USER", 10)?,
            },
            user_url: config::var("TRIBE_MESSAGING_USER_URL"),
            service_key_file: config::service_key_file(),
            heartbeat: config::duration_or("TRIBE_MESSAGING_HEARTBEAT", Duration::from_secs(25))?,
            workers: WorkerConfig::from_env("TRIBE_MESSAGING")?,
        })
    }
}
