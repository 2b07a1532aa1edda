//! What every service's `App` starts from, so its `app.rs` only lists what is its own:
//! the database pool, migrated (the kit's tables, then the service's), the token verifier,
//! the service's own key for internal calls, and the background work every service runs
//! (the outbox relay, event consumers), started with the server and stopped after it drains.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use futures::future::BoxFuture;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::service::Routes;

use crate::auth::{
    AuthLayer, KeyPair, KeySet, MethodPolicies, SERVICE_KID_PREFIX, Surface, TokenVerifier,
};
use crate::config::{
    AuthConfig, DatabaseConfig, ExposeSecret, KafkaConfig, ServerConfig, WorkerConfig,
};
use crate::consumer::{ConsumerConfig, EventConsumer, EventHandler};
use crate::outbox::OutboxRelay;
use crate::tasks::Background;

/// The shared foundation of one service process.
pub struct Base {
    pub pool: PgPool,
    pub verifier: TokenVerifier,
    /// The key this service signs its calls to other services with
    /// (`TRIBE_SERVICE_KEY_FILE`, kid `svc.<service>.…`); `None` when unset.
    pub service_key: Option<KeyPair>,
    kafka: KafkaConfig,
    workers: WorkerConfig,
}

impl std::fmt::Debug for Base {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Base")
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

/// Where a service's `Base` comes from: its name (the kid prefix of its key), the
/// settings every service reads, and its embedded migrations.
#[derive(Debug, Clone, Copy)]
pub struct BaseConfig<'a> {
    pub service: &'a str,
    pub database: &'a DatabaseConfig,
    pub migrator: &'a Migrator,
    pub auth: &'a AuthConfig,
    pub kafka: &'a KafkaConfig,
    pub workers: WorkerConfig,
    pub service_key_file: Option<&'a Path>,
}

impl Base {
    /// Connects (and, when configured, migrates) the database, loads the JWKS for the
    /// verifier and the service key.
    pub async fn start(config: BaseConfig<'_>) -> anyhow::Result<Self> {
        let database = config.database;
        let pool =
            crate::db::connect(database.url.expose_secret(), database.max_connections).await?;
        if database.migrate {
            crate::db::migrate(&pool, config.migrator).await?;
        }
        let keys = Arc::new(KeySet::load(&config.auth.jwks_file)?);
        let verifier = TokenVerifier::new(keys, &config.auth.issuer, &config.auth.audience);
        let service_key = match config.service_key_file {
            Some(path) => Some(
                KeyPair::load(path, &format!("{SERVICE_KID_PREFIX}{}.", config.service))
                    .with_context(|| format!("load the {} service key", config.service))?,
            ),
            None => None,
        };
        Ok(Self {
            pool,
            verifier,
            service_key,
            kafka: config.kafka.clone(),
            workers: config.workers,
        })
    }

    /// The auth layer for `policies`, verifying with this process's key set.
    pub fn auth_layer(&self, policies: MethodPolicies) -> AuthLayer {
        AuthLayer::new(self.verifier.clone(), policies)
    }

    /// The background work: the outbox relay (when `<PREFIX>_OUTBOX_RELAY`) comes first so
    /// it stops last and publishes what the other tasks wrote.
    pub fn workers(&self) -> anyhow::Result<Workers> {
        let mut workers = Workers {
            pool: self.pool.clone(),
            kafka: self.kafka.clone(),
            enabled: self.workers,
            tasks: Vec::new(),
        };
        if self.workers.outbox_relay {
            let relay = OutboxRelay::new(self.pool.clone(), self.kafka.clone())?;
            workers.tasks.push((
                "outbox relay",
                Box::new(move |stop| {
                    Box::pin(async move {
                        relay.run(stop).await;
                        Ok(())
                    })
                }),
            ));
        }
        Ok(workers)
    }
}

type Start =
    Box<dyn FnOnce(BoxFuture<'static, ()>) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// A service's background tasks, registered at build time and started by `serve`.
pub struct Workers {
    pool: PgPool,
    kafka: KafkaConfig,
    enabled: WorkerConfig,
    tasks: Vec<(&'static str, Start)>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.tasks.iter().map(|(name, _)| name))
            .finish()
    }
}

impl Workers {
    /// Adds an event consumer (when `<PREFIX>_CONSUME_EVENTS`).
    pub fn consumer<H: EventHandler + 'static>(
        &mut self,
        name: &'static str,
        config: ConsumerConfig,
        handler: H,
    ) -> anyhow::Result<()> {
        if self.enabled.consume_events {
            let consumer =
                EventConsumer::new(self.pool.clone(), self.kafka.clone(), config, handler)?;
            self.tasks
                .push((name, Box::new(move |stop| Box::pin(consumer.run(stop)))));
        }
        Ok(())
    }

    /// Adds any other task: it gets a stop signal and must return when it resolves.
    pub fn task<F>(&mut self, name: &'static str, task: F)
    where
        F: FnOnce(BoxFuture<'static, ()>) -> BoxFuture<'static, anyhow::Result<()>>
            + Send
            + 'static,
    {
        self.tasks.push((name, Box::new(task)));
    }

    /// The names of the registered tasks, in start order.
    pub fn names(&self) -> Vec<&'static str> {
        self.tasks.iter().map(|(name, _)| *name).collect()
    }

    fn start(self) -> Background {
        let mut background = Background::new();
        for (name, start) in self.tasks {
            background.spawn(name, start);
        }
        background
    }
}

/// What a built service holds besides its use-cases: its server settings, the auth layer
/// for its surface and its background work, ready to serve its routes.
pub struct Serving {
    server: ServerConfig,
    auth: AuthLayer,
    service: &'static str,
    workers: Workers,
}

impl std::fmt::Debug for Serving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serving")
            .field("service", &self.service)
            .field("listen", &self.server.listen_addr)
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

impl Base {
    /// Serving for `surface` (its policies become the auth layer) with `workers`.
    pub fn serving(&self, server: &ServerConfig, surface: &Surface, workers: Workers) -> Serving {
        Serving {
            server: server.clone(),
            auth: self.auth_layer(surface.policies()),
            service: surface.service,
            workers,
        }
    }
}

impl Serving {
    /// The largest message either way (`<PREFIX>_MAX_MESSAGE_BYTES`): the generated server
    /// of each service is built with it.
    pub fn max_message_bytes(&self) -> usize {
        self.server.max_message_bytes
    }

    /// Serves `routes` (see `server::serve`) with the workers running alongside: started
    /// first, stopped one by one after the server has drained.
    pub async fn serve(
        self,
        routes: Routes,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> anyhow::Result<()> {
        let background = self.workers.start();
        let result = crate::server::serve(
            &self.server,
            self.auth,
            routes,
            &[self.service],
            listener,
            shutdown,
        )
        .await;
        background.stop().await;
        result
    }
}

/// A service process, as its binary runs it and as tests spawn it: every service's `App`
/// implements this, so `main.rs` is one line and the testkit starts any service the same
/// way (`tribe_testkit::TestServer::start::<App>(config)`).
pub trait Service: Sized + Send + 'static {
    /// The short name: telemetry's service name and the log line that reports the address.
    const NAME: &'static str;
    type Config: ServiceConfig;

    /// Connects what the service needs and registers its background work.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Self>> + Send;
    /// Serves on `listener` until `shutdown` resolves, then drains.
    fn serve(
        self,
        listener: TcpListener,
        shutdown: BoxFuture<'static, ()>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// A service's configuration, read whole from the environment at startup.
pub trait ServiceConfig: Sized + Send + 'static {
    fn from_env() -> anyhow::Result<Self>;
    /// The gRPC server settings (`<PREFIX>_LISTEN_ADDR`, timeouts, drain).
    fn server(&self) -> &ServerConfig;
}

/// The `main` of every service binary: telemetry, configuration, bind, build, serve until
/// SIGTERM or Ctrl-C, flush telemetry.
pub async fn main<S: Service>() -> anyhow::Result<()> {
    let mut telemetry = crate::telemetry::init(S::NAME)?;
    let config = S::Config::from_env()?;
    let listener = crate::server::bind(config.server()).await?;
    tracing::info!(addr = %listener.local_addr()?, "{} service listening", S::NAME);
    let app = S::build(config).await?;
    let result = app
        .serve(listener, Box::pin(crate::server::shutdown_signal()))
        .await;
    telemetry.shutdown();
    result
}
