//! Configuration of the payment service (`TRIBE_PAYMENT_*` plus the shared `TRIBE_*`
//! variables set by the `tribe` launcher).

use std::time::Duration;

use tribe_kit::config::{self, AuthConfig, KafkaConfig, ServerConfig};

/// Everything the payment service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_PAYMENT_DATABASE_URL`.
    pub database_url: String,
    /// `TRIBE_PAYMENT_DB_MAX_CONNECTIONS` (default 20).
    pub db_max_connections: u32,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: Vec<u8>,
    /// `TRIBE_PAYMENT_SANDBOX` (default true): accept `PAYMENT_PROVIDER_TEST` and use the
    /// deterministic in-process sandbox provider. Set false in production.
    pub sandbox: bool,
    /// `TRIBE_PAYMENT_MIGRATE` (default true): apply migrations at startup.
    pub migrate: bool,
    /// `TRIBE_PAYMENT_OUTBOX_RELAY` (default true): publish outbox events from this process.
    pub outbox_relay: bool,
    /// `TRIBE_PAYMENT_BILLING_WORKER` (default true): run the billing worker in this process.
    pub billing_worker: bool,
    /// `TRIBE_PAYMENT_DEFAULT_PLANS` (default false; `tribe up` sets it): create the
    /// default catalogue at start when there is no plan yet.
    pub default_plans: bool,
    /// `TRIBE_PAYMENT_BILLING_INTERVAL` (default 30s): how often the worker looks for due
    /// subscriptions.
    pub billing_interval: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let page_token_secret = config::page_token_secret()?;
        let sandbox = config::parse_or("TRIBE_PAYMENT_SANDBOX", true)?;
        if sandbox {
            tracing::warn!("payment sandbox provider enabled (TRIBE_PAYMENT_SANDBOX): never use in production");
        }
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_PAYMENT", "127.0.0.1:50056")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database_url: config::var("TRIBE_PAYMENT_DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/tribe_payment".into()),
            db_max_connections: config::parse_or("TRIBE_PAYMENT_DB_MAX_CONNECTIONS", 20)?,
            page_token_secret,
            sandbox,
            migrate: config::parse_or("TRIBE_PAYMENT_MIGRATE", true)?,
            outbox_relay: config::parse_or("TRIBE_PAYMENT_OUTBOX_RELAY", true)?,
            billing_worker: config::parse_or("TRIBE_PAYMENT_BILLING_WORKER", true)?,
            default_plans: config::parse_or("TRIBE_PAYMENT_DEFAULT_PLANS", false)?,
            billing_interval: config::duration_or("TRIBE_PAYMENT_BILLING_INTERVAL", Duration::from_secs(30))?,
        })
    }
}
