//! Wiring: connects the database and Kafka, builds the service with its provider and
//! clock, and serves it with the outbox relay and the billing worker alongside.

use std::sync::Arc;

use futures::FutureExt;
use tokio::net::TcpListener;
use tribe_kit::auth::{AuthLayer, KeySet, TokenVerifier};
use tribe_kit::outbox::OutboxRelay;
use tribe_kit::page::PageTokens;
use tribe_kit::tasks::Background;
use tribe_proto::payment::v1::payment_service_server::PaymentServiceServer;

use crate::billing::BillingWorker;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::grpc::PaymentApi;
use crate::policy;
use crate::provider::{PaymentProvider, SandboxProvider};
use crate::service::{Deps, Faults, PaymentService};

/// Migrations of the `tribe_payment` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/payment");

/// What tests may replace: the provider, the clock and the fault hooks.
#[derive(Clone)]
pub struct Hooks {
    pub provider: Arc<dyn PaymentProvider>,
    pub clock: Arc<dyn Clock>,
    pub faults: Arc<Faults>,
}

impl Default for Hooks {
    fn default() -> Self {
        Self { provider: Arc::new(SandboxProvider::new()), clock: Arc::new(SystemClock), faults: Arc::new(Faults::default()) }
    }
}

/// A ready-to-serve payment service.
pub struct App {
    config: Config,
    service: PaymentService,
    auth: AuthLayer,
    relay: Option<OutboxRelay>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("listen", &self.config.server.listen_addr).finish_non_exhaustive()
    }
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Hooks::default()).await
    }

    pub async fn build_with(config: Config, hooks: Hooks) -> anyhow::Result<Self> {
        let pool = tribe_kit::db::connect(&config.database_url, config.db_max_connections).await?;
        if config.migrate {
            tribe_kit::db::migrate(&pool, &MIGRATOR).await?;
        }
        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let service = PaymentService::new(Deps {
            pool: pool.clone(),
            pages: PageTokens::new(config.page_token_secret.clone()),
            provider: hooks.provider,
            clock: hooks.clock,
            sandbox: config.sandbox,
            faults: hooks.faults,
        });
        if config.default_plans {
            let created = service.seed_default_plans().await.map_err(|e| anyhow::anyhow!("seed default plans: {e:?}"))?;
            if created > 0 {
                tracing::info!(created, "created the default plan catalogue");
            }
        }
        let relay = if config.outbox_relay { Some(OutboxRelay::new(pool, config.kafka.clone())?) } else { None };
        Ok(Self { auth: AuthLayer::new(verifier, policy::policies()), config, service, relay })
    }

    /// The use-cases (tests drive the billing worker through this).
    pub fn service(&self) -> PaymentService {
        self.service.clone()
    }

    /// Serves until `shutdown` resolves, then drains calls, stops the worker and flushes
    /// the outbox.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut background = Background::new();
        if let Some(relay) = self.relay {
            background.spawn("outbox relay", |stop| relay.run(stop));
        }
        if self.config.billing_worker {
            let worker = BillingWorker::new(self.service.clone(), self.config.billing_interval);
            background.spawn("billing worker", |stop| worker.run(stop));
        }
        let api = PaymentServiceServer::new(PaymentApi::new(self.service))
            .max_decoding_message_size(self.config.server.max_message_bytes)
            .max_encoding_message_size(self.config.server.max_message_bytes);
        let routes = tonic::service::Routes::new(api);
        let result = tribe_kit::server::serve(&self.config.server, self.auth, routes, &[policy::SERVICE], listener, shutdown.boxed()).await;
        background.stop().await;
        result
    }
}
