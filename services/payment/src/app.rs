//! Wiring: connects the database and Kafka, builds the service with its provider and
//! clock, and serves it with the outbox relay and the billing worker alongside.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::page::PageTokens;
use tribe_proto::payment::v1::payment_service_server::PaymentServiceServer;

use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::grpc::PaymentApi;
use crate::policy;
use crate::provider::{PaymentProvider, SandboxProvider};
use crate::service::{Deps, Faults, PaymentService};
use crate::worker::BillingWorker;

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
        Self {
            provider: Arc::new(SandboxProvider::new()),
            clock: Arc::new(SystemClock),
            faults: Arc::new(Faults::default()),
        }
    }
}

/// A ready-to-serve payment service.
#[derive(Debug)]
pub struct App {
    service: PaymentService,
    serving: Serving,
}

impl App {
    pub async fn build_with(config: Config, hooks: Hooks) -> anyhow::Result<Self> {
        let base = Base::start(BaseConfig {
            service: policy::SERVICE_NAME,
            database: &config.database,
            migrator: &MIGRATOR,
            auth: &config.auth,
            kafka: &config.kafka,
            workers: config.workers,
            // The payment service calls no other service.
            service_key_file: None,
        })
        .await?;
        let service = PaymentService::new(Deps {
            pool: base.pool.clone(),
            pages: PageTokens::from_secret(&config.page_token_secret),
            provider: hooks.provider,
            clock: hooks.clock,
            sandbox: config.sandbox,
            faults: hooks.faults,
        });
        if config.default_plans {
            let created = service
                .seed_default_plans()
                .await
                .map_err(|e| anyhow::anyhow!("seed default plans: {e:?}"))?;
            if created > 0 {
                tracing::info!(created, "created the default plan catalogue");
            }
        }
        // The outbox relay first (it stops last and publishes what the worker wrote).
        let mut workers = base.workers()?;
        if config.billing_worker {
            let worker = BillingWorker::new(service.clone(), config.billing_interval);
            workers.task("billing worker", move |stop| {
                Box::pin(async move {
                    worker.run(stop).await;
                    Ok(())
                })
            });
        }
        let serving = base.serving(&config.server, &policy::SURFACE, workers);
        Ok(Self { service, serving })
    }

    /// The use-cases (tests drive the billing worker through this).
    pub fn service(&self) -> PaymentService {
        self.service.clone()
    }
}

impl Service for App {
    const NAME: &'static str = policy::SERVICE_NAME;
    type Config = Config;

    async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Hooks::default()).await
    }

    /// Serves until `shutdown` resolves, then drains calls, stops the worker and flushes
    /// the outbox.
    async fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let api = PaymentServiceServer::new(PaymentApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        self.serving.serve(routes, listener, shutdown).await
    }
}
