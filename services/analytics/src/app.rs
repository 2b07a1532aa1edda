//! Wiring: connects the database, Redis and Kafka, and serves the views alongside the
//! rollup consumer, the outbox relay of tracked events and partition maintenance.

use std::sync::Arc;

use futures::FutureExt;
use tokio::net::TcpListener;
use tribe_kit::auth::{AuthLayer, KeyPair, KeySet, SERVICE_KID_PREFIX, TokenVerifier};
use tribe_kit::consumer::EventConsumer;
use tribe_kit::outbox::OutboxRelay;
use tribe_kit::tasks::Background;
use tribe_proto::analytics::v1::analytics_service_server::AnalyticsServiceServer;

use crate::config::Config;
use crate::content::ContentLookup;
use crate::grpc::AnalyticsApi;
use crate::ingest::{self, Rollups};
use crate::policy;
use crate::status::{StatusReader, Watermark};
use crate::track::Tracker;
use crate::views::Views;

/// Migrations of the `tribe_analytics` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/analytics");

/// A ready-to-serve analytics service.
pub struct App {
    config: Config,
    api: AnalyticsApi,
    auth: AuthLayer,
    pool: sqlx::PgPool,
    relay: Option<OutboxRelay>,
    consumer: Option<EventConsumer<Rollups>>,
    /// Kept current while the consumer runs here.
    watermark: Option<(StatusReader, Watermark)>,
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
        // Partitions must exist before the first event arrives.
        crate::partitions::prepare(&pool, chrono::Utc::now()).await?;
        let redis = redis::Client::open(config.redis_url.as_str())?;
        let redis = redis::aio::ConnectionManager::new(redis).await?;
        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let content = match (&config.content_url, &config.service_key_file) {
            (Some(url), Some(key)) => {
                let key = KeyPair::load(key, &format!("{SERVICE_KID_PREFIX}{}.", crate::content::SERVICE_NAME))?;
                Some(ContentLookup::new(url, key, &config.auth.issuer)?)
            }
            (Some(_), None) => {
                tracing::warn!("TRIBE_SERVICE_KEY_FILE unset: no content service fallback for unseen posts");
                None
            }
            _ => None,
        };
        let watermark = Watermark::default();
        let status = StatusReader::new(pool.clone(), config.kafka.clone());
        let api = AnalyticsApi::new(
            Views::new(pool.clone(), content, watermark.clone()),
            Tracker::new(pool.clone(), redis, config.redis_prefix.clone(), config.track_events_per_minute),
            status.clone(),
        );
        let relay = if config.outbox_relay { Some(OutboxRelay::new(pool.clone(), config.kafka.clone())?) } else { None };
        let consumer = if config.consume_events {
            Some(EventConsumer::new(pool.clone(), config.kafka.clone(), ingest::consumer_config(), Rollups)?)
        } else {
            None
        };
        let watermark = consumer.is_some().then_some((status, watermark));
        Ok(Self { auth: AuthLayer::new(verifier, policy::policies()), config, api, pool, relay, consumer, watermark })
    }

    /// Serves until `shutdown` resolves, then drains calls, stops the consumer after the
    /// event in hand and flushes the outbox.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The relay starts first so it stops last and publishes what the others wrote.
        let mut background = Background::new();
        if let Some(relay) = self.relay {
            background.spawn("outbox relay", |stop| relay.run(stop));
        }
        let (pool, retention) = (self.pool.clone(), self.config.raw_retention);
        background.spawn("partition maintenance", move |stop| crate::partitions::maintain(pool, retention, stop));
        if let Some(consumer) = self.consumer {
            background.spawn("rollup consumer", |stop| consumer.run(stop));
        }
        if let Some((reader, watermark)) = self.watermark {
            let every = std::time::Duration::from_secs(5);
            background.spawn("watermark refresh", move |stop| crate::status::refresh(reader, watermark, every, stop));
        }
        let api = AnalyticsServiceServer::new(self.api)
            .max_decoding_message_size(self.config.server.max_message_bytes)
            .max_encoding_message_size(self.config.server.max_message_bytes);
        let routes = tonic::service::Routes::new(api);
        let result = tribe_kit::server::serve(&self.config.server, self.auth, routes, &[policy::SERVICE], listener, shutdown.boxed()).await;
        background.stop().await;
        result
    }
}
