//! Wiring: connects the database, Redis and Kafka, and serves the views alongside the
//! outbox relay of tracked events, partition maintenance, the rollup consumer and the
//! watermark refresh.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::config::ExposeSecret;
use tribe_proto::analytics::v1::analytics_service_server::AnalyticsServiceServer;

use crate::config::Config;
use crate::content_client::ContentClient;
use crate::grpc::AnalyticsApi;
use crate::ingest::{self, Rollups};
use crate::policy;
use crate::service::{AnalyticsService, Deps};
use crate::store::throttle::Throttle;

/// Migrations of the `tribe_analytics` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/analytics");

/// How often the views' watermark is recomputed from the broker.
const WATERMARK_REFRESH: Duration = Duration::from_secs(5);

/// A ready-to-serve analytics service.
#[derive(Debug)]
pub struct App {
    service: AnalyticsService,
    serving: Serving,
}

impl Service for App {
    const NAME: &'static str = policy::SERVICE_NAME;
    type Config = Config;

    async fn build(config: Config) -> anyhow::Result<Self> {
        // The service key only signs the content fallback's calls: without a content URL it
        // is not read.
        let service_key_file = config
            .content_url
            .as_ref()
            .and(config.service_key_file.as_deref());
        let mut base = Base::start(BaseConfig {
            service: policy::SERVICE_NAME,
            database: &config.database,
            migrator: &MIGRATOR,
            auth: &config.auth,
            kafka: &config.kafka,
            workers: config.workers,
            service_key_file,
        })
        .await?;
        // Partitions must exist before the first event arrives.
        crate::partitions::prepare(&base.pool, chrono::Utc::now()).await?;
        let redis = redis::Client::open(config.redis.url.expose_secret())?;
        let redis = redis::aio::ConnectionManager::new(redis).await?;
        let content = match (&config.content_url, base.service_key.take()) {
            (Some(url), Some(key)) => Some(ContentClient::new(url, key, &config.auth.issuer)?),
            (Some(_), None) => {
                tracing::warn!(
                    "TRIBE_SERVICE_KEY_FILE unset: no content service fallback for unseen posts"
                );
                None
            }
            _ => None,
        };
        let service = AnalyticsService::new(Deps {
            pool: base.pool.clone(),
            kafka: config.kafka.clone(),
            content,
            throttle: Throttle::new(redis, config.redis.prefix.clone()),
            track_events_per_minute: config.track_events_per_minute,
        });

        // The relay (from `base.workers()`) starts first so it stops last and publishes
        // what the others wrote.
        let mut workers = base.workers()?;
        let (pool, retention) = (base.pool.clone(), config.raw_retention);
        workers.task("partition maintenance", move |stop| {
            Box::pin(async move {
                crate::partitions::maintain(pool, retention, stop).await;
                Ok(())
            })
        });
        workers.consumer("rollup consumer", ingest::consumer_config(), Rollups)?;
        // The watermark follows the consumer: kept current only where it runs.
        if config.workers.consume_events {
            let service = service.clone();
            workers.task("watermark refresh", move |stop| {
                Box::pin(async move {
                    service.refresh_watermark(WATERMARK_REFRESH, stop).await;
                    Ok(())
                })
            });
        }
        let serving = base.serving(&config.server, &policy::SURFACE, workers);
        Ok(Self { service, serving })
    }

    /// Serves until `shutdown` resolves, then drains calls, stops the consumer after the
    /// event in hand and flushes the outbox.
    async fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let api = AnalyticsServiceServer::new(AnalyticsApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        self.serving.serve(routes, listener, shutdown).await
    }
}
