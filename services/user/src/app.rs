//! Wiring: connects the database, Redis and Kafka, builds the service and serves it
//! with the outbox relay alongside.

use std::sync::Arc;

use futures::FutureExt;
use tokio::net::TcpListener;
use tribe_kit::auth::{AuthLayer, KeyPair, KeySet, TokenSigner, TokenVerifier};
use tribe_kit::consumer::{ConsumerConfig, EventConsumer};
use tribe_kit::outbox::OutboxRelay;
use tribe_kit::page::PageTokens;
use tribe_kit::tasks::Background;
use tribe_proto::user::v1::user_service_server::UserServiceServer;

use crate::config::Config;
use crate::entitlements::{self, TierUpdater};
use crate::grpc::UserApi;
use crate::policy;
use crate::service::{Deps, UserService};
use crate::store::throttle::Throttle;

/// Migrations of the `tribe_user` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/user");

/// A ready-to-serve user service.
pub struct App {
    config: Config,
    service: UserService,
    auth: AuthLayer,
    relay: Option<OutboxRelay>,
    entitlements: Option<EventConsumer<TierUpdater>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("listen", &self.config.server.listen_addr).finish_non_exhaustive()
    }
}

impl App {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let pool = tribe_kit::db::connect(&config.database_url, config.db_max_connections).await?;
        if config.migrate {
            tribe_kit::db::migrate(&pool, &MIGRATOR).await?;
        }
        let redis = redis::Client::open(config.redis_url.as_str())?;
        let redis = redis::aio::ConnectionManager::new(redis).await?;

        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let signing = Arc::new(KeyPair::load(&config.signing_key_file, "")?);
        anyhow::ensure!(keys.decoding_key(signing.kid()).is_some(), "the JWKS does not contain the signing key {}", signing.kid());
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let service = UserService::new(Deps {
            pool: pool.clone(),
            signer: TokenSigner::new(signing, &config.auth.issuer),
            audience: config.auth.audience.clone(),
            pages: PageTokens::new(config.page_token_secret.clone()),
            throttle: Throttle::new(redis, config.redis_prefix.clone()),
            limits: config.limits.clone(),
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
        });
        let relay = if config.outbox_relay { Some(OutboxRelay::new(pool.clone(), config.kafka.clone())?) } else { None };
        let entitlements = if config.consume_events {
            let group = ConsumerConfig::new(entitlements::GROUP, &[entitlements::TOPIC]);
            Some(EventConsumer::new(pool, config.kafka.clone(), group, TierUpdater)?)
        } else {
            None
        };
        Ok(Self { auth: AuthLayer::new(verifier, policy::policies()), config, service, relay, entitlements })
    }

    /// Serves until `shutdown` resolves, then drains calls and flushes the outbox.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut background = Background::new();
        if let Some(relay) = self.relay {
            background.spawn("outbox relay", |stop| relay.run(stop));
        }
        if let Some(consumer) = self.entitlements {
            background.spawn("payment event consumer", |stop| consumer.run(stop));
        }
        let api = UserServiceServer::new(UserApi::new(self.service))
            .max_decoding_message_size(self.config.server.max_message_bytes)
            .max_encoding_message_size(self.config.server.max_message_bytes);
        let routes = tonic::service::Routes::new(api);
        let result = tribe_kit::server::serve(&self.config.server, self.auth, routes, &[policy::SERVICE], listener, shutdown.boxed()).await;
        background.stop().await;
        result
    }
}
