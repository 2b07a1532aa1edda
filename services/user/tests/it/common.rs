//! Shared fixtures of the user service's integration tests: a fresh database, Redis
//! prefix, topics and keys per test, and the service on a free port.
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tribe_kit::config::{KafkaConfig, ServerConfig, WorkerConfig};
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};
use tribe_user::config::{Config, Limits};

pub use tribe_testkit::{mask, violated_fields};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_user::policy::ERROR_DOMAIN, code, reason)
}

pub type Client = UserServiceClient<Channel>;

/// Fields drop in order: the server stops before its database goes away.
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
}

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        redis: tribe_testkit::redis_config(),
        signing_key_file: keys.issuer_key_path(),
        page_token_secret: tribe_testkit::page_secret(),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: Limits::default(),
        workers: WorkerConfig::ALL,
    }
}

pub async fn spawn(config: Config) -> TestServer {
    TestServer::start::<tribe_user::App>(config)
        .await
        .expect("start the user service")
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts the service after `adjust` edits its configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let db = TestDb::create(&tribe_user::MIGRATOR)
        .await
        .expect("test database");
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&[
        "tribe.user.v1",
        "tribe.payment.v1",
        "tribe.fitness.v1",
        tribe_kit::kafka::DEAD_LETTER_TOPIC,
    ])
    .await
    .expect("kafka topics");
    let mut config = config(&db, &keys, &kafka);
    adjust(&mut config);
    let server = spawn(config).await;
    let client = UserServiceClient::new(server.channel().await.expect("channel"));
    Env {
        db,
        keys,
        kafka,
        server,
        client,
    }
}

/// A registered account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub handle: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

impl Env {
    /// Publishes `event` to the test's `logical_topic` as another service's relay would,
    /// `times` times (a redelivery when more than once).
    pub async fn publish(
        &self,
        logical_topic: &str,
        event: &tribe_proto::events::v1::Event,
        times: usize,
    ) {
        let repeated = vec![event; times];
        tribe_testkit::publish(&self.kafka, logical_topic, &repeated)
            .await
            .unwrap();
    }

    /// Registers `handle` (a trainer when `trainer`) through the env's client.
    pub async fn register(&mut self, handle: &str, trainer: bool) -> Account {
        Account::register(&mut self.client, handle, trainer).await
    }
}

impl Account {
    /// Registers `handle` through `client`: for a channel the `Env` does not own (through
    /// the edge, or to the spawned binary); tests with an `Env` call [`Env::register`].
    pub async fn register(client: &mut Client, handle: &str, trainer: bool) -> Account {
        let email = format!("{handle}@example.com");
        let response = client
            .register(pb::RegisterRequest {
                email: email.clone(),
                password: PASSWORD.into(),
                handle: handle.into(),
                display_name: format!("{handle} display"),
                account_type: if trainer {
                    pb::AccountType::Trainer
                } else {
                    pb::AccountType::Member
                } as i32,
            })
            .await
            .unwrap_or_else(|s| panic!("register {handle}: {s:?}"))
            .into_inner();
        let user = response.user.expect("user");
        let tokens = response.tokens.expect("tokens");
        Account {
            id: user.user_id,
            handle: handle.into(),
            email,
            access: tokens.access_token,
            refresh: tokens.refresh_token,
        }
    }

    /// `message` as a request carrying this account's access token.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        authed(message, &self.access)
    }
}
