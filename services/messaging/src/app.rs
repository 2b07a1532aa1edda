//! Wiring: connects PostgreSQL, Redis, Kafka and (optionally) ScyllaDB, builds the
//! service and serves it with the outbox relay, the event consumer and the live
//! subscriber alongside.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use tokio::net::TcpListener;
use tribe_kit::auth::{AuthLayer, KeyPair, KeySet, SERVICE_KID_PREFIX, TokenVerifier};
use tribe_kit::consumer::{ConsumerConfig, EventConsumer};
use tribe_kit::outbox::OutboxRelay;
use tribe_kit::page::PageTokens;
use tribe_kit::tasks::Background;
use tribe_proto::messaging::v1::messaging_service_server::MessagingServiceServer;

use crate::config::Config;
use crate::events::{self, Notifier};
use crate::grpc::MessagingApi;
use crate::live::Hub;
use crate::live::ephemeral::Ephemeral;
use crate::policy;
use crate::service::{Deps, Messaging};
use crate::store::MessageStore;
use crate::store::postgres::PgMessageStore;

/// Migrations of the `tribe_messaging` database, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/messaging");

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
pub struct App {
    config: Config,
    service: Messaging,
    auth: AuthLayer,
    relay: Option<OutboxRelay>,
    consumer: Option<EventConsumer<Notifier>>,
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
        let store: Arc<dyn MessageStore> = match &config.cql {
            None => Arc::new(PgMessageStore::new(pool.clone())),
            Some(cql) => {
                tracing::info!(nodes = ?cql.nodes, keyspace = %cql.keyspace, "using the ScyllaDB message store");
                Arc::new(crate::store::scylla::ScyllaMessageStore::connect(cql, config.scylla_bucket).await?)
            }
        };
        let client = redis::Client::open(config.redis_url.as_str())?;
        let conn = redis_manager(client.clone()).await?;
        let breaker = Arc::new(crate::live::ephemeral::Breaker::default());
        let hub = Hub::new(client, conn.clone(), breaker.clone(), config.redis_prefix.clone());
        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let users = match (&config.user_url, &config.service_key_file) {
            (Some(url), Some(key)) => {
                let key = KeyPair::load(key, &format!("{SERVICE_KID_PREFIX}{}.", crate::users::SERVICE_NAME))?;
                Some(crate::users::Users::new(url, key, &config.auth.issuer)?)
            }
            (Some(_), None) => {
                tracing::warn!("TRIBE_MESSAGING_USER_URL set without TRIBE_SERVICE_KEY_FILE: the user service will not be asked");
                None
            }
            _ => None,
        };
        let service = Messaging::new(Deps {
            users,
            pool: pool.clone(),
            store,
            pages: PageTokens::new(config.page_token_secret.clone()),
            hub: hub.clone(),
            ephemeral: Ephemeral::new(conn, config.redis_prefix.clone(), breaker),
            limits: config.limits.clone(),
            heartbeat: config.heartbeat,
        });
        let relay = if config.outbox_relay { Some(OutboxRelay::new(pool.clone(), config.kafka.clone())?) } else { None };
        let consumer = if config.consume_events {
            let group = ConsumerConfig::new(events::GROUP, &events::TOPICS);
            Some(EventConsumer::new(pool, config.kafka.clone(), group, Notifier::new(hub))?)
        } else {
            None
        };
        Ok(Self { auth: AuthLayer::new(verifier, policy::policies()), config, service, relay, consumer })
    }

    /// Serves until `shutdown` resolves, then drains calls and flushes the outbox.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The relay starts first so it stops last, publishing what the others wrote.
        let mut background = Background::new();
        if let Some(relay) = self.relay {
            background.spawn("outbox relay", |stop| relay.run(stop));
        }
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let hub = self.service.hub().clone();
        let subscriber = hub.clone();
        background.spawn("live subscriber", move |stop| subscriber.run_subscriber(stop, ready_tx));
        // Serve only once live delivery is subscribed, so no event published after the
        // first call is missed; give up waiting if Redis is down (it reconnects later).
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        if let Some(consumer) = self.consumer {
            background.spawn("messaging event consumer", |stop| consumer.run(stop));
        }
        let api = MessagingServiceServer::new(MessagingApi::new(self.service))
            .max_decoding_message_size(self.config.server.max_message_bytes)
            .max_encoding_message_size(self.config.server.max_message_bytes);
        let routes = tonic::service::Routes::new(api);
        // Open streams never finish by themselves: end them when draining starts.
        let shutdown = async move {
            shutdown.await;
            hub.drain();
        };
        let result = tribe_kit::server::serve(&self.config.server, self.auth, routes, &[policy::SERVICE], listener, shutdown.boxed()).await;
        background.stop().await;
        result
    }
}
