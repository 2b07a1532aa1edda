//! Wiring: connects the database and Kafka, the user and payment clients, builds the
//! service and serves it with the outbox relay and the challenge finaliser alongside.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::auth::ServiceCredential;
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::page::PageTokens;
use tribe_kit::peers::UserDirectory;
use tribe_proto::fitness::v1::fitness_service_server::FitnessServiceServer;

use crate::config::Config;
use crate::grpc::FitnessApi;
use crate::payment_client::PaymentClient;
use crate::policy;
use crate::premium::Entitlements;
use crate::service::{self, Deps, FitnessService};

/// Migrations of the `tribe_fitness` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/fitness");

/// A ready-to-serve fitness service.
#[derive(Debug)]
pub struct App {
    service: FitnessService,
    serving: Serving,
}

impl Service for App {
    const NAME: &'static str = policy::SERVICE_NAME;
    type Config = Config;

    async fn build(config: Config) -> anyhow::Result<Self> {
        let mut base = Base::start(BaseConfig {
            service: policy::SERVICE_NAME,
            database: &config.database,
            migrator: &MIGRATOR,
            auth: &config.auth,
            kafka: &config.kafka,
            workers: config.workers,
            service_key_file: config.service_key_file.as_deref(),
        })
        .await?;
        let credential = ServiceCredential::new(
            policy::SERVICE_NAME,
            base.service_key.take(),
            &config.auth.issuer,
        );
        let users = match &config.user_url {
            Some(url) => Some(UserDirectory::new(
                url,
                credential.clone(),
                Duration::from_secs(5),
            )?),
            None => None,
        };
        let payment = match &config.payment_url {
            Some(url) => Some(PaymentClient::new(url, credential)?),
            None => None,
        };
        let service = FitnessService::new(Deps {
            pool: base.pool.clone(),
            pages: PageTokens::from_secret(&config.page_token_secret),
            users,
            entitlements: Entitlements::new(payment, config.entitlement_ttl),
        });
        let mut workers = base.workers()?;
        if !config.challenge_interval.is_zero() {
            let svc = service.clone();
            let interval = config.challenge_interval;
            workers.task("challenge finaliser", move |stop| {
                Box::pin(async move {
                    service::challenges::finalise_ended(svc, interval, stop).await;
                    Ok(())
                })
            });
        }
        let serving = base.serving(&config.server, &policy::SURFACE, workers);
        Ok(Self { service, serving })
    }

    /// Serves until `shutdown` resolves, then drains calls and stops the background tasks.
    async fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let api = FitnessServiceServer::new(FitnessApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        self.serving.serve(routes, listener, shutdown).await
    }
}
