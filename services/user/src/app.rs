//! Wiring: connects the database, Redis and Kafka, builds the service and serves it
//! with the outbox relay alongside.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::auth::{KeyPair, TokenSigner};
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::config::ExposeSecret;
use tribe_kit::consumer::ConsumerConfig;
use tribe_kit::page::PageTokens;
use tribe_proto::user::v1::user_service_server::UserServiceServer;

use crate::achievements::{self, AchievementAwarder};
use crate::config::Config;
use crate::entitlements::{self, TierUpdater};
use crate::grpc::UserApi;
use crate::policy;
use crate::service::{Deps, UserService};
use crate::store::throttle::Throttle;

/// Migrations of the `tribe_user` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/user");

/// A ready-to-serve user service.
#[derive(Debug)]
pub struct App {
    service: UserService,
    serving: Serving,
}

impl Service for App {
    const NAME: &'static str = policy::SERVICE_NAME;
    type Config = Config;

    async fn build(config: Config) -> anyhow::Result<Self> {
        let base = Base::start(BaseConfig {
            service: policy::SERVICE_NAME,
            database: &config.database,
            migrator: &MIGRATOR,
            auth: &config.auth,
            kafka: &config.kafka,
            workers: config.workers,
            service_key_file: None,
        })
        .await?;
        let redis = redis::Client::open(config.redis.url.expose_secret())?;
        let redis = redis::aio::ConnectionManager::new(redis).await?;

        // The user service is the token issuer: its signing key must be in the JWKS every
        // service verifies with.
        let signing = Arc::new(KeyPair::load(&config.signing_key_file, "")?);
        anyhow::ensure!(
            base.verifier.has_key(signing.kid()),
            "the JWKS does not contain the signing key {}",
            signing.kid()
        );
        let service = UserService::new(Deps {
            pool: base.pool.clone(),
            signer: TokenSigner::new(signing, &config.auth.issuer),
            audience: config.auth.audience.clone(),
            pages: PageTokens::from_secret(&config.page_token_secret),
            throttle: Throttle::new(redis, config.redis.prefix.clone()),
            limits: config.limits.clone(),
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
        });
        let mut workers = base.workers()?;
        workers.consumer(
            "payment event consumer",
            ConsumerConfig::new(entitlements::GROUP, &[entitlements::TOPIC]),
            TierUpdater,
        )?;
        workers.consumer(
            "fitness event consumer",
            ConsumerConfig::new(achievements::GROUP, &[achievements::TOPIC]),
            AchievementAwarder,
        )?;
        let serving = base.serving(&config.server, &policy::SURFACE, workers);
        Ok(Self { service, serving })
    }

    /// Serves until `shutdown` resolves, then drains calls and flushes the outbox.
    async fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let api = UserServiceServer::new(UserApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        self.serving.serve(routes, listener, shutdown).await
    }
}
