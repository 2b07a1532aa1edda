//! Wiring: connects the database, the timeline store, Redis and the user service, and
//! serves the API with the outbox relay, the fan-out consumer and the trending task
//! alongside.

use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::config::ExposeSecret;
use tribe_kit::consumer::ConsumerConfig;
use tribe_kit::page::PageTokens;
use tribe_proto::content::v1::content_service_server::ContentServiceServer;

use crate::cache::Cache;
use crate::config::Config;
use crate::fanout::{self, FanOut};
use crate::grpc::ContentApi;
use crate::limits::RateLimits;
use crate::policy;
use crate::service::{self, ContentService, Deps};
use crate::store::redis::Redis;
use crate::timeline::TimelineStore;
use crate::timeline::postgres::PgTimelines;
use crate::timeline::scylla::ScyllaTimelines;
use crate::user_client::UserClient;

/// Migrations of the `tribe_content` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/content");

/// A ready-to-serve content service.
#[derive(Debug)]
pub struct App {
    service: ContentService,
    serving: Serving,
}

impl App {
    /// The use-cases, for tests that drive them without the network.
    pub fn service(&self) -> &ContentService {
        &self.service
    }
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
        let users = UserClient::new(
            &config.user_url,
            base.service_key.take(),
            &config.auth.issuer,
        )?;
        let timelines: Arc<dyn TimelineStore> = match &config.cql {
            None => Arc::new(PgTimelines::new(base.pool.clone(), config.timeline_cap)),
            Some(cql) => {
                tracing::info!(nodes = ?cql.nodes, keyspace = %cql.keyspace, "timelines on ScyllaDB");
                Arc::new(ScyllaTimelines::connect(cql, config.timeline_cap).await?)
            }
        };
        let redis = Redis::new(config.redis.url.expose_secret(), &config.redis.prefix)?;
        // Connect now so the first requests do not wait; a Redis that is down only costs
        // the limits and the caches until it is back.
        if let Err(err) = redis.conn().await {
            tracing::warn!(error = %err, "redis unreachable at startup; rate limits and caches are off until it is back");
        }
        let cache = Cache::new(redis.clone(), config.post_cache_ttl, config.user_cache_ttl);
        let limits = RateLimits::new(redis, config.limits);
        let service = ContentService::new(Deps {
            pool: base.pool.clone(),
            pages: PageTokens::from_secret(&config.page_token_secret),
            users: users.clone(),
            timelines: timelines.clone(),
            media_hosts: config.media_hosts.clone(),
            limits,
            cache: cache.clone(),
        });
        let mut workers = base.workers()?;
        let handler = FanOut {
            timelines,
            users,
            cache,
            threshold: config.fanout_threshold,
        };
        workers.consumer(
            "fan-out consumer",
            ConsumerConfig::new(fanout::GROUP, &fanout::TOPICS),
            handler,
        )?;
        // A zero interval turns the trending task off (tests compute snapshots on demand).
        if !config.trending_interval.is_zero() {
            let (pool, interval) = (base.pool.clone(), config.trending_interval);
            workers.task("trending", move |stop| {
                Box::pin(async move {
                    service::refresh_trending(pool, interval, stop).await;
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
        let api = ContentServiceServer::new(ContentApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        self.serving.serve(routes, listener, shutdown).await
    }
}
