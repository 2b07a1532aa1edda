//! Wiring: connects the database, the timeline store and the user service, and serves
//! the API with the outbox relay, the fan-out consumer and the trending task alongside.

use std::sync::Arc;

use futures::FutureExt;
use tokio::net::TcpListener;
use tribe_kit::auth::{AuthLayer, KeyPair, KeySet, SERVICE_KID_PREFIX, TokenVerifier};
use tribe_kit::consumer::{ConsumerConfig, EventConsumer};
use tribe_kit::outbox::OutboxRelay;
use tribe_kit::page::PageTokens;
use tribe_proto::content::v1::content_service_server::ContentServiceServer;

use crate::cache::Cache;
use crate::config::Config;
use crate::fanout::{self, FanOut};
use crate::grpc::ContentApi;
use crate::limits::RateLimits;
use crate::policy;
use crate::service::{ContentService, Deps};
use crate::store::redis::Redis;
use crate::timeline::TimelineStore;
use crate::timeline::postgres::PgTimelines;
use crate::timeline::scylla::ScyllaTimelines;
use crate::users::{self, Users};

/// Migrations of the `tribe_content` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/content");

/// A ready-to-serve content service.
pub struct App {
    config: Config,
    pool: sqlx::PgPool,
    service: ContentService,
    auth: AuthLayer,
    relay: Option<OutboxRelay>,
    consumer: Option<EventConsumer<FanOut>>,
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
        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let key = match &config.service_key_file {
            Some(path) => Some(KeyPair::load(path, &format!("{SERVICE_KID_PREFIX}{}.", users::SERVICE_NAME))?),
            None => None,
        };
        let users = Users::new(&config.user_url, key, &config.auth.issuer)?;
        let timelines: Arc<dyn TimelineStore> = match &config.cql {
            None => Arc::new(PgTimelines::new(pool.clone(), config.timeline_cap)),
            Some(cql) => {
                tracing::info!(nodes = ?cql.nodes, keyspace = %cql.keyspace, "timelines on ScyllaDB");
                Arc::new(ScyllaTimelines::connect(cql, config.timeline_cap).await?)
            }
        };
        let redis = Redis::new(&config.redis_url, &config.redis_prefix)?;
        // Connect now so the first requests do not wait; a Redis that is down only costs
        // the limits and the caches until it is back.
        if let Err(err) = redis.conn().await {
            tracing::warn!(error = %err, "redis unreachable at startup; rate limits and caches are off until it is back");
        }
        let cache = Cache::new(redis.clone(), config.post_cache_ttl, config.user_cache_ttl);
        let limits = RateLimits::new(redis, config.limits);
        let service = ContentService::new(Deps {
            pool: pool.clone(),
            pages: PageTokens::new(config.page_token_secret.clone()),
            users: users.clone(),
            timelines: timelines.clone(),
            media_hosts: config.media_hosts.clone(),
            limits,
            cache: cache.clone(),
        });
        let relay = if config.outbox_relay { Some(OutboxRelay::new(pool.clone(), config.kafka.clone())?) } else { None };
        let consumer = if config.consume_events {
            let handler = FanOut { timelines, users, cache, threshold: config.fanout_threshold };
            Some(EventConsumer::new(pool.clone(), config.kafka.clone(), ConsumerConfig::new(fanout::GROUP, &fanout::TOPICS), handler)?)
        } else {
            None
        };
        Ok(Self { auth: AuthLayer::new(verifier, policy::policies()), config, pool, service, relay, consumer })
    }

    /// The use-cases, for tests that drive them without the network.
    pub fn service(&self) -> &ContentService {
        &self.service
    }

    /// Serves until `shutdown` resolves, then drains calls and stops the background tasks.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let relay = self.relay.map(|relay| tokio::spawn(relay.run(stopped(stop_rx.clone()))));
        let consumer = self.consumer.map(|consumer| tokio::spawn(consumer.run(stopped(stop_rx.clone()))));
        let trending = (!self.config.trending_interval.is_zero())
            .then(|| tokio::spawn(crate::trending::run(self.pool.clone(), self.config.trending_interval, stopped(stop_rx.clone()))));
        let api = ContentServiceServer::new(ContentApi::new(self.service))
            .max_decoding_message_size(self.config.server.max_message_bytes)
            .max_encoding_message_size(self.config.server.max_message_bytes);
        let routes = tonic::service::Routes::new(api);
        let result = tribe_kit::server::serve(&self.config.server, self.auth, routes, &[policy::SERVICE], listener, shutdown.boxed()).await;
        let _ = stop_tx.send(true);
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        if let Some(trending) = trending {
            let _ = trending.await;
        }
        if let Some(consumer) = consumer
            && let Ok(Err(err)) = consumer.await
        {
            tracing::warn!(error = format!("{err:#}"), "fan-out consumer stopped with an error");
        }
        result
    }
}
