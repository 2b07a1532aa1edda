//! Shared fixtures of the user service's integration tests: a fresh database, Redis
//! prefix, topics and keys per test, and the service on a free port.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;
use tribe_kit::config::{AuthConfig, DEFAULT_AUDIENCE, DEFAULT_ISSUER, KafkaConfig, ServerConfig};
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};
use tribe_user::config::{Config, Limits};

pub type Client = UserServiceClient<Channel>;

/// Fields drop in order: the server stops before its database goes away.
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub config: Config,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
}

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: AuthConfig { jwks_file: keys.jwks_path(), issuer: DEFAULT_ISSUER.into(), audience: DEFAULT_AUDIENCE.into() },
        kafka: kafka.clone(),
        database_url: db.url.clone(),
        db_max_connections: 10,
        redis_url: tribe_testkit::redis_url(),
        redis_prefix: tribe_testkit::redis_prefix(),
        signing_key_file: keys.issuer_key_path(),
        page_token_secret: b"test page token secret of enough length".to_vec(),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: Limits::default(),
        migrate: false,
        outbox_relay: true,
        consume_events: true,
    }
}

pub async fn spawn(config: Config) -> TestServer {
    let app = tribe_user::App::build(config).await.expect("build user service");
    TestServer::spawn(move |listener, shutdown| app.serve(listener, shutdown)).await.expect("spawn user service")
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts the service after `adjust` edits its configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let db = TestDb::create(&tribe_user::MIGRATOR).await.expect("test database");
    let keys = TestKeys::new().expect("keys");
    let kafka =
        tribe_testkit::kafka(&["tribe.user.v1", "tribe.payment.v1", tribe_kit::kafka::DEAD_LETTER_TOPIC]).await.expect("kafka topics");
    let mut config = config(&db, &keys, &kafka);
    adjust(&mut config);
    let server = spawn(config.clone()).await;
    let client = UserServiceClient::new(server.channel().await.expect("channel"));
    Env { db, keys, kafka, server, client, config }
}

/// A registered account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub handle: String,
    pub email: String,
    pub password: String,
    pub access: String,
    pub refresh: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn register(client: &mut Client, handle: &str, trainer: bool) -> Account {
    let email = format!("{handle}@example.com");
    let response = client
        .register(pb::RegisterRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            handle: handle.into(),
            display_name: format!("{handle} display"),
            account_type: if trainer { pb::AccountType::Trainer } else { pb::AccountType::Member } as i32,
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
        password: PASSWORD.into(),
        access: tokens.access_token,
        refresh: tokens.refresh_token,
    }
}

pub fn as_user<T>(account: &Account, message: T) -> tonic::Request<T> {
    authed(message, &account.access)
}

/// Asserts the code and, when given, the ErrorInfo reason of a failed call.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    if let Some(reason) = reason {
        let details = status.get_error_details();
        let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
        assert_eq!(info.reason, reason, "{status:?}");
        assert_eq!(info.domain, "user.trainertribe.dev");
    }
}

/// The fields named by the BadRequest detail of an INVALID_ARGUMENT.
pub fn violated_fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    details.bad_request().map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect()).unwrap_or_default()
}

pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask { paths: paths.iter().map(|p| p.to_string()).collect() })
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}
