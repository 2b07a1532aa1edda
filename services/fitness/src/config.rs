//! Configuration of the fitness service (`TRIBE_FITNESS_*` plus the shared `TRIBE_*`
//! variables).

use std::path::PathBuf;
use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, PageSecret, ServerConfig, WorkerConfig,
};

/// Everything the fitness service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_FITNESS_DATABASE_URL`, `TRIBE_FITNESS_DB_MAX_CONNECTIONS`,
    /// `TRIBE_FITNESS_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_SERVICE_KEY_FILE`: this service's ES256 key for service credentials (user
    /// summaries and time zones, payment entitlements). Without it those calls are
    /// refused: summaries degrade to ids, time zones to UTC, premium to the token's claim.
    pub service_key_file: Option<PathBuf>,
    /// `TRIBE_FITNESS_USER_URL` (the launcher sets it; unset = no user service: creator
    /// summaries carry ids only, time zones are UTC, invited users are not checked).
    pub user_url: Option<String>,
    /// `TRIBE_FITNESS_PAYMENT_URL` (the launcher sets it; unset = the token's tier claim
    /// alone decides premium access).
    pub payment_url: Option<String>,
    /// `TRIBE_FITNESS_ENTITLEMENT_TTL` (default 60s): how long a user's entitlement from
    /// the payment service is trusted before it is asked again.
    pub entitlement_ttl: Duration,
    /// `TRIBE_FITNESS_CHALLENGE_INTERVAL` (default 30s; 0 disables): how often ended
    /// challenges are finalised (ChallengeFinished events).
    pub challenge_interval: Duration,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: PageSecret,
    /// `TRIBE_FITNESS_OUTBOX_RELAY`, `TRIBE_FITNESS_CONSUME_EVENTS` (no consumers yet).
    pub workers: WorkerConfig,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        let page_token_secret = config::page_token_secret()?;
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_FITNESS", "127.0.0.1:50054")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_FITNESS", "tribe_fitness")?,
            service_key_file: config::service_key_file(),
            user_url: config::var("TRIBE_FITNESS_USER_URL"),
            payment_url: config::var("TRIBE_FITNESS_PAYMENT_URL"),
            entitlement_ttl: config::duration_or(
                "TRIBE_FITNESS_ENTITLEMENT_TTL",
                Duration::from_secs(60),
            )?,
            challenge_interval: config::duration_or(
                "TRIBE_FITNESS_CHALLENGE_INTERVAL",
                Duration::from_secs(30),
            )?,
            page_token_secret,
            workers: WorkerConfig::from_env("TRIBE_FITNESS")?,
        })
    }
}
