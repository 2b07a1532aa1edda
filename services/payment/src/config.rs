//! Configuration of the payment service (`TRIBE_PAYMENT_*` plus the shared `TRIBE_*`
//! variables set by the `tribe` launcher).

use std::time::Duration;

use tribe_kit::bootstrap::ServiceConfig;
use tribe_kit::config::{
    self, AuthConfig, DatabaseConfig, KafkaConfig, PageSecret, ServerConfig, WorkerConfig,
};

/// Everything the payment service reads at startup.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub auth: AuthConfig,
    pub kafka: KafkaConfig,
    /// `TRIBE_PAYMENT_DATABASE_URL`, `TRIBE_PAYMENT_DB_MAX_CONNECTIONS`, `TRIBE_PAYMENT_MIGRATE`.
    pub database: DatabaseConfig,
    /// `TRIBE_PAGE_TOKEN_SECRET`: page-token MAC key; random per process when unset.
    pub page_token_secret: PageSecret,
    /// `TRIBE_PAYMENT_OUTBOX_RELAY` (default true): publish outbox events from this
    /// process. (`TRIBE_PAYMENT_CONSUME_EVENTS` is read too; the service consumes none.)
    pub workers: WorkerConfig,
    /// `TRIBE_PAYMENT_SANDBOX` (default true): accept `PAYMENT_PROVIDER_TEST` and use the
    /// deterministic in-process sandbox provider. Set false in production.
    pub sandbox: bool,
    /// `TRIBE_PAYMENT_BILLING_WORKER` (default true): run the billing worker in this process.
    pub billing_worker: bool,
    /// `TRIBE_PAYMENT_DEFAULT_PLANS` (default false; `tribe up` sets it): create the
    /// default catalogue at start when there is no plan yet.
    pub default_plans: bool,
    /// `TRIBE_PAYMENT_BILLING_INTERVAL` (default 30s): how often the worker looks for due
    /// subscriptions.
    pub billing_interval: Duration,
}

impl ServiceConfig for Config {
    fn server(&self) -> &ServerConfig {
        &self.server
    }

    fn from_env() -> anyhow::Result<Self> {
        let page_token_secret = config::page_token_secret()?;
        let sandbox = config::parse_or("TRIBE_PAYMENT_SANDBOX", true)?;
        if sandbox {
            tracing::warn!(
                "payment sandbox provider enabled (TRIBE_PAYMENT_SANDBOX): never use in production"
            );
        }
        Ok(Self {
            server: ServerConfig::from_env("TRIBE_PAYMENT", "127.0.0.1:50056")?,
            auth: AuthConfig::from_env()?,
            kafka: KafkaConfig::from_env(),
            database: DatabaseConfig::from_env("TRIBE_PAYMENT", "tribe_payment")?,
            page_token_secret,
            workers: WorkerConfig::from_env("TRIBE_PAYMENT")?,
            sandbox,
            billing_worker: config::parse_or("TRIBE_PAYMENT_BILLING_WORKER", true)?,
            default_plans: config::parse_or("TRIBE_PAYMENT_DEFAULT_PLANS", false)?,
            billing_interval: config::duration_or(
                "TRIBE_PAYMENT_BILLING_INTERVAL",
                Duration::from_secs(30),
            )?,
        })
    }
}
