//! Configuration of the user service (`TRIBE_USER_*` plus the shared `TRIBE_*` variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, PageSecret, RedisConfig, ServerConfig,
    WorkerConfig,
};

/// Everything the user service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_USER_DATABASE_URL`, `TRIBE_USER_DB_MAX_CONNECTIONS`, `TRIBE_USER_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_REDIS_URL`, `TRIBE_USER_REDIS_PREFIX` (default "tribe:user:").
    pub redis: RedisConfig,
    /// `TRIBE_USER_SIGNING_KEY_FILE`: the ES256 private key that signs access tokens.
    pub signing_key_file: PathBuf,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: PageSecret,
    /// `TRIBE_USER_ACCESS_TOKEN_TTL` (default 15m).
    pub access_token_ttl: Duration,
    /// `TRIBE_USER_REFRESH_TOKEN_TTL` (default 30 days).
    pub refresh_token_ttl: Duration,
    pub limits: Limits,
    /// `TRIBE_USER_OUTBOX_RELAY`, `TRIBE_USER_CONSUME_EVENTS` (payment events: the subscription
    /// tier; fitness events: achievements).
    pub workers: WorkerConfig,
}

/// Abuse limits, each over a sliding window of `window`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// `TRIBE_USER_THROTTLE_WINDOW` (default 15m).
    pub window: Duration,
    /// `TRIBE_USER_LOGIN_FAILURES_PER_ACCOUNT` (default 10).
    pub login_failures_per_account: u64,
    /// `TRIBE_USER_LOGIN_FAILURES_PER_IP` (default 100).
    pub login_failures_per_ip: u64,
    /// `TRIBE_USER_REGISTRATIONS_PER_IP` (default 20).
    pub registrations_per_ip: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            login_failures_per_account: 10,
            login_failures_per_ip: 100,
            registrations_per_ip: 20,
        }
    }
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        let page_token_secret = config::page_token_secret()?;
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_USER", "127.0.0.1:50051")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_USER", "tribe_user")?,
            redis: RedisConfig::from_env("TRIBE_USER", "user"),
            signing_key_file: config::required("TRIBE_USER_SIGNING_KEY_FILE")?.into(),
            page_token_secret,
            access_token_ttl: config::duration_or(
                "TRIBE_USER_ACCESS_TOKEN_TTL",
                Duration::from_secs(15 * 60),
            )?,
            refresh_token_ttl: config::duration_or(
                "TRIBE_USER_REFRESH_TOKEN_TTL",
                Duration::from_secs(30 * 24 * 3600),
            )?,
            limits: Limits {
                window: config::duration_or(
                    "TRIBE_USER_THROTTLE_WINDOW",
                    Duration::from_secs(15 * 60),
                )?,
                login_failures_per_account: config::parse_or(
                    "TRIBE_USER_LOGIN_FAILURES_PER_ACCOUNT",
                    10,
                )?,
                login_failures_per_ip: config::parse_or("TRIBE_USER_LOGIN_FAILURES_PER_IP", 100)?,
                registrations_per_ip: config::parse_or("TRIBE_USER_REGISTRATIONS_PER_IP", 20)?,
            },
            workers: WorkerConfig::from_env("TRIBE_USER")?,
        })
    }
}
