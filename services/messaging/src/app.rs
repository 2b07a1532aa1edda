//! Wiring: connects PostgreSQL, Redis, Kafka and (optionally) ScyllaDB, builds the
//! service and serves it with the outbox relay, the live subscriber and the event
//! consumer alongside.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tribe_kit::bootstrap::{Base, BaseConfig, Service, Serving};
use tribe_kit::config::ExposeSecret;
use tribe_kit::consumer::ConsumerConfig;
use tribe_kit::page::PageTokens;
use tribe_proto::messaging::v1::messaging_service_server::MessagingServiceServer;

use crate::config::Config;
use crate::events::{self, Notifier};
use crate::grpc::MessagingApi;
use crate::live::Hub;
use crate::live::ephemeral::{Breaker, Ephemeral};
use crate::policy;
use crate::service::{Deps, Messaging};
use crate::store::MessageStore;
use crate::store::postgres::PgMessageStore;
use crate::user_client;

/// Migrations of the `tribe_messaging` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/messaging");

/// How long startup waits for the live subscription before serving without it (Redis
/// down; the subscriber keeps reconnecting).
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(5);

/// A Redis connection that gives up quickly, so a Redis outage degrades calls instead
/// of stalling them; it reconnects by itself.
pub async fn redis_manager(client: redis::Client) -> anyhow::Result<redis::aio::ConnectionManager> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(1))
        .set_response_timeout(Duration::from_secs(1))
        .set_number_of_retries(1)
        .set_max_delay(500);
    Ok(redis::aio::ConnectionManager::new_with_config(client, config).await?)
}

/// A ready-to-serve messaging service.
#[derive(Debug)]
pub struct App {
    service: Messaging,
    serving: Serving,
}

impl Service for App {
    const NAME: &'static str = policy::SERVICE_NAME;
    type Config = Config;

    async fn build(config: Config) -> anyhow::Result<Self> {
        // The service key is only needed (and only loaded) to ask the user service.
        let service_key_file = match (&config.user_url, &config.service_key_file) {
            (Some(_), Some(key)) => Some(key.as_path()),
            (Some(_), None) => {
                tracing::warn!(
                    "TRIBE_MESSAGING_USER_URL set without TRIBE_SERVICE_KEY_FILE: the user service will not be asked"
                );
                None
            }
            (None, _) => None,
        };
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
        let store: Arc<dyn MessageStore> = match &config.cql {
            None => Arc::new(PgMessageStore::new(base.pool.clone())),
            Some(cql) => {
                tracing::info!(nodes = ?cql.nodes, keyspace = %cql.keyspace, "using the ScyllaDB message store");
                Arc::new(
                    crate::store::scylla::ScyllaMessageStore::connect(cql, config.scylla_bucket)
                        .await?,
                )
            }
        };
        let client = redis::Client::open(config.redis.url.expose_secret())?;
        let conn = redis_manager(client.clone()).await?;
        let breaker = Arc::new(Breaker::default());
        let hub = Hub::new(
            client,
            conn.clone(),
            breaker.clone(),
            config.redis.prefix.clone(),
        );
        let users = match (&config.user_url, base.service_key.take()) {
            (Some(url), Some(key)) => Some(user_client::connect(url, key, &config.auth.issuer)?),
            _ => None,
        };
        let service = Messaging::new(Deps {
            users,
            pool: base.pool.clone(),
            store,
            pages: PageTokens::from_secret(&config.page_token_secret),
            hub: hub.clone(),
            ephemeral: Ephemeral::new(conn, config.redis.prefix.clone(), breaker),
            limits: config.limits.clone(),
            heartbeat: config.heartbeat,
        });
        let mut workers = base.workers()?;
        // Subscribed before serving, so no event published after the first call is
        // missed; without Redis it serves anyway and the subscriber reconnects later.
        let subscription = hub.subscribe(SUBSCRIBE_WAIT).await;
        let subscriber = hub.clone();
        workers.task("live subscriber", move |stop| {
            Box::pin(async move {
                subscriber.run_subscriber(stop, subscription).await;
                Ok(())
            })
        });
        workers.consumer(
            "messaging event consumer",
            ConsumerConfig::new(events::GROUP, &events::TOPICS),
            Notifier::new(hub),
        )?;
        let serving = base.serving(&config.server, &policy::SURFACE, workers);
        Ok(Self { service, serving })
    }

    /// Serves until `shutdown` resolves, then ends the open streams, drains calls and
    /// flushes the outbox.
    async fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let hub = self.service.hub().clone();
        let api = MessagingServiceServer::new(MessagingApi::new(self.service))
            .max_decoding_message_size(self.serving.max_message_bytes())
            .max_encoding_message_size(self.serving.max_message_bytes());
        let routes = tonic::service::Routes::new(api);
        // Open streams never finish by themselves: end them when draining starts.
        let shutdown = Box::pin(async move {
            shutdown.await;
            hub.drain();
        });
        self.serving.serve(routes, listener, shutdown).await
    }
}
