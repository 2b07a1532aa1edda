//! Test fixtures shared by every service's integration tests: a fresh database per test
//! (created, migrated, dropped), a Redis key prefix, a Kafka topic suffix with its topics
//! created, signing keys and tokens, and services served on port 0.

pub mod check;
pub mod cql;
pub mod kafka;
pub mod logs;
pub mod proxy;

pub use check::{
    assert_status, error_metadata, eventually, mask, request_id, unique, violated_fields,
    wait_until,
};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use prost::Message as _;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{ClientConfig, Message};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};
use tribe_kit::auth::{KeyPair, KeySet, TokenSigner, TokenVerifier};
use tribe_kit::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, KafkaConfig};
use tribe_proto::events::v1::Event;

/// The PostgreSQL server tests create their databases on.
pub fn postgres_url() -> String {
    std::env::var("TRIBE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TRIBE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A unique Redis key prefix for one test.
pub fn redis_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Redis for one test: the shared server, a key prefix no other test uses.
pub fn redis_config() -> tribe_kit::config::RedisConfig {
    tribe_kit::config::RedisConfig::for_tests(&redis_url(), &redis_prefix())
}

/// A page-token secret that outlives a service restart within a test.
pub fn page_secret() -> tribe_kit::config::PageSecret {
    tribe_kit::config::PageSecret::new(b"test page token secret of enough length".to_vec())
}

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    name: String,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl TestDb {
    /// Creates `test_<uuid>` and applies `migrator`.
    pub async fn create(migrator: &Migrator) -> anyhow::Result<Self> {
        let db = Self::empty().await?;
        tribe_kit::db::migrate(&db.pool, migrator).await?;
        Ok(db)
    }

    /// The service setting for this database: already migrated by `create`.
    pub fn config(&self) -> tribe_kit::config::DatabaseConfig {
        tribe_kit::config::DatabaseConfig {
            migrate: false,
            max_connections: 10,
            ..tribe_kit::config::DatabaseConfig::for_tests(&self.url)
        }
    }

    /// Creates an empty `test_<uuid>` (for tests that bring their own schema).
    pub async fn empty() -> anyhow::Result<Self> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let server = postgres_url();
        tribe_kit::db::ensure_database(&server, &name).await?;
        let url = with_database(&server, &name);
        let pool = tribe_kit::db::connect(&url, 30).await?;
        Ok(Self { pool, url, name })
    }
}

fn with_database(server_url: &str, name: &str) -> String {
    match server_url.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
            format!("{base}/{name}")
        }
        _ => format!("{server_url}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = postgres_url();
        // Drop runs inside the test's runtime, which is blocked while we wait, so the pool
        // (bound to that runtime) is left alone: FORCE terminates its connections.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async move {
                    if let Err(err) = tribe_kit::db::drop_database(&server, &name).await {
                        eprintln!("could not drop test database {name}: {err:#}");
                    }
                });
            }
        })
        .join();
    }
}

/// Kafka settings isolated to one test by a topic suffix; the topics exist on return.
pub async fn kafka(logical_topics: &[&str]) -> anyhow::Result<KafkaConfig> {
    let config = KafkaConfig {
        brokers: std::env::var("TRIBE_KAFKA_BROKERS").unwrap_or_else(|_| "127.0.0.1:9092".into()),
        topic_suffix: format!(".test-{}", uuid::Uuid::new_v4().simple()),
    };
    tribe_kit::kafka::ensure_topics(
        &config,
        logical_topics,
        tribe_kit::config::TopicLayout::SINGLE,
    )
    .await
    .context("create test topics (is the broker running? ./mesh/test.sh starts one)")?;
    Ok(config)
}

/// Reads every event on `logical_topic` from the beginning until `quiet` passes with
/// nothing new, or `deadline` passes; returns them in log order.
pub async fn read_events(
    kafka: &KafkaConfig,
    logical_topic: &str,
    min_count: usize,
    deadline: Duration,
) -> anyhow::Result<Vec<Event>> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.brokers)
        .set(
            "group.id",
            format!("test-reader-{}", uuid::Uuid::new_v4().simple()),
        )
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[&kafka.topic(logical_topic)])?;
    let mut events = Vec::new();
    let end = tokio::time::Instant::now() + deadline;
    let quiet = Duration::from_millis(1500);
    loop {
        let wait = if events.len() >= min_count {
            quiet
        } else {
            end.saturating_duration_since(tokio::time::Instant::now())
        };
        match tokio::time::timeout(wait, consumer.recv()).await {
            Ok(Ok(message)) => {
                let payload = message.payload().unwrap_or_default();
                events.push(Event::decode(payload).context("decode event")?);
            }
            Ok(Err(err)) => anyhow::bail!("consume: {err}"),
            Err(_) => break,
        }
        if tokio::time::Instant::now() >= end {
            break;
        }
    }
    Ok(events)
}

/// Keys of one test: the user-token issuer and one service key, with a JWKS file.
pub struct TestKeys {
    dir: tempfile::TempDir,
    pub issuer_key: Arc<KeyPair>,
    pub service_key: Arc<KeyPair>,
    pub keyset: Arc<KeySet>,
}

impl std::fmt::Debug for TestKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKeys")
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// Name of the service whose credential tests mint.
pub const TEST_SERVICE: &str = "content";

impl TestKeys {
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let issuer_key = KeyPair::generate("")?;
        let service_key = KeyPair::generate(&format!("svc.{TEST_SERVICE}."))?;
        std::fs::write(dir.path().join("user-signing.pem"), issuer_key.pem())?;
        std::fs::write(dir.path().join("svc.pem"), service_key.pem())?;
        let keyset = KeySet::from_jwks(vec![issuer_key.jwk().clone(), service_key.jwk().clone()])?;
        std::fs::write(dir.path().join("jwks.json"), keyset.to_json())?;
        Ok(Self {
            dir,
            issuer_key: Arc::new(issuer_key),
            service_key: Arc::new(service_key),
            keyset: Arc::new(keyset),
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// How a service under test verifies tokens: this key set, the default issuer and audience.
    pub fn auth_config(&self) -> tribe_kit::config::AuthConfig {
        tribe_kit::config::AuthConfig {
            jwks_file: self.jwks_path(),
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
        }
    }

    pub fn jwks_path(&self) -> PathBuf {
        self.dir.path().join("jwks.json")
    }

    pub fn issuer_key_path(&self) -> PathBuf {
        self.dir.path().join("user-signing.pem")
    }

    pub fn signer(&self) -> TokenSigner {
        TokenSigner::new(self.issuer_key.clone(), DEFAULT_ISSUER)
    }

    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(self.keyset.clone(), DEFAULT_ISSUER, DEFAULT_AUDIENCE)
    }

    /// A valid access token for `user_id` with `roles` (e.g. ["user"], ["user","admin"]).
    pub fn access_token(&self, user_id: &str, roles: &[&str]) -> String {
        self.signer()
            .access_token(
                DEFAULT_AUDIENCE,
                user_id,
                roles.iter().map(|r| r.to_string()).collect(),
                "free",
                "test-session",
                Duration::from_secs(900),
            )
            .map(|(token, _)| token)
            .unwrap_or_default()
    }

    /// A service credential of [`TEST_SERVICE`].
    pub fn service_token(&self) -> String {
        TokenSigner::new(self.service_key.clone(), DEFAULT_ISSUER)
            .service_token(TEST_SERVICE, Duration::from_secs(300))
            .unwrap_or_default()
    }
}

/// A server spawned on a free port; shuts down gracefully on [`TestServer::shutdown`].
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TestServer {
    /// Binds 127.0.0.1:0 and runs `serve(listener, shutdown)` in the background.
    pub async fn spawn<F, Fut>(serve: F) -> anyhow::Result<Self>
    where
        F: FnOnce(TcpListener, BoxFuture<'static, ()>) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown: BoxFuture<'static, ()> = Box::pin(async move {
            let _ = rx.await;
        });
        let handle = tokio::spawn(serve(listener, shutdown));
        Ok(Self {
            addr,
            shutdown: Some(tx),
            handle,
        })
    }

    /// Builds service `S` from `config` and serves it on a free port.
    pub async fn start<S: tribe_kit::bootstrap::Service>(
        config: S::Config,
    ) -> anyhow::Result<Self> {
        let app = S::build(config).await?;
        Self::spawn(move |listener, shutdown| app.serve(listener, shutdown)).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A native gRPC channel to the server.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url())?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await?)
    }

    /// Triggers the graceful drain and waits for the server to stop.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.handle).await?
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Wraps a message in a request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Tokens that must be refused everywhere (Envoy and every service), with a name each:
/// unsigned, HS256 keyed with the public key, expired, not yet valid, wrong audience,
/// wrong issuer, unknown key id, a service key posing as the user issuer, and a refresh
/// token presented as an access token (`refresh_token` from a real login).
pub fn hostile_tokens(
    keys: &TestKeys,
    user_id: &str,
    refresh_token: &str,
) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use tribe_kit::auth::{Claims, TokenKind};

    let now = chrono::Utc::now().timestamp();
    let claims = |f: &dyn Fn(&mut Claims)| {
        let mut c = Claims {
            iss: DEFAULT_ISSUER.into(),
            aud: DEFAULT_AUDIENCE.into(),
            sub: user_id.into(),
            exp: now + 600,
            nbf: now - 10,
            iat: now - 10,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: TokenKind::Access,
            roles: vec!["user".into(), "admin".into()],
            tier: "pro".into(),
            sid: String::new(),
        };
        f(&mut c);
        c
    };
    let sign = |c: &Claims| keys.signer().sign_claims(c).unwrap_or_default();
    let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let body = serde_json::to_value(claims(&|_| {})).unwrap_or_default();

    let unsigned = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": keys.issuer_key.kid()})),
        b64(&body)
    );
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(keys.issuer_key.kid().to_string());
        let public = serde_json::to_string(keys.issuer_key.jwk()).unwrap_or_default();
        jsonwebtoken::encode(
            &header,
            &body,
            &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap_or_default()
    };
    let stranger = KeyPair::generate("").map(Arc::new).ok();
    let unknown_kid = stranger
        .map(|k| {
            TokenSigner::new(k, DEFAULT_ISSUER)
                .sign_claims(&claims(&|_| {}))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let service_as_user = TokenSigner::new(keys.service_key.clone(), DEFAULT_ISSUER)
        .sign_claims(&claims(&|_| {}))
        .unwrap_or_default();
    vec![
        ("alg none", unsigned),
        ("HS256 keyed with the public key", hs256),
        (
            "expired",
            sign(&claims(&|c| {
                c.exp = now - 3600;
                c.nbf = now - 7200;
            })),
        ),
        ("not yet valid", sign(&claims(&|c| c.nbf = now + 3600))),
        (
            "wrong audience",
            sign(&claims(&|c| c.aud = "someone-else".into())),
        ),
        ("wrong issuer", sign(&claims(&|c| c.iss = "evil".into()))),
        ("unknown kid", unknown_kid),
        ("service key posing as user issuer", service_as_user),
        ("refresh token as access token", refresh_token.to_string()),
        ("garbage", "not.a.jwt".into()),
    ]
}

/// A minimal gRPC-Web client over HTTP/1.1, as a browser would talk to the edge
/// (`application/grpc-web+proto`, length-prefixed frames, trailers in the body).
pub mod grpc_web {
    use prost::Message;

    /// The outcome of a unary gRPC-Web call: the decoded response, or the status code and
    /// message from the trailers (or trailers-only headers).
    pub async fn call<Req: Message, Resp: Message + Default>(
        base_url: &str,
        path: &str,
        request: &Req,
        token: Option<&str>,
    ) -> anyhow::Result<Result<Resp, (i32, String)>> {
        let body = request.encode_to_vec();
        let mut framed = Vec::with_capacity(body.len() + 5);
        framed.push(0u8);
        framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        framed.extend_from_slice(&body);
        let client = reqwest::Client::builder().http1_only().build()?;
        let mut builder = client
            .post(format!("{base_url}{path}"))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .header("origin", "http://localhost:3000")
            .body(framed);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let response = builder.send().await?;
        anyhow::ensure!(
            response.version() == reqwest::Version::HTTP_11,
            "expected HTTP/1.1, got {:?}",
            response.version()
        );
        let http_status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (header_status, header_message) = (header("grpc-status"), header("grpc-message"));
        let bytes = response.bytes().await?;
        let (mut message, mut status, mut status_message) = (None, header_status, header_message);
        let mut rest = bytes.as_ref();
        while rest.len() >= 5 {
            let flag = rest[0];
            let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            anyhow::ensure!(rest.len() >= 5 + len, "truncated gRPC-Web frame");
            let frame = &rest[5..5 + len];
            if flag & 0x80 == 0 {
                message = Some(Resp::decode(frame)?);
            } else {
                for line in String::from_utf8_lossy(frame).split("\r\n") {
                    if let Some((key, value)) = line.split_once(':') {
                        match key.trim().to_ascii_lowercase().as_str() {
                            "grpc-status" => status = Some(value.trim().to_string()),
                            "grpc-message" => status_message = Some(value.trim().to_string()),
                            _ => {}
                        }
                    }
                }
            }
            rest = &rest[5 + len..];
        }
        let code: i32 = match status {
            Some(s) => s.parse()?,
            None => anyhow::bail!("no grpc-status (HTTP {http_status})"),
        };
        if code == 0 {
            Ok(Ok(message.unwrap_or_default()))
        } else {
            Ok(Err((code, status_message.unwrap_or_default())))
        }
    }
}

/// A free loopback address (bound, read, released) for processes that take a port.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A real Envoy edge in front of one test upstream, on free ports, with the test's JWKS.
pub struct TestEdge {
    envoy: tribe_infra::envoy::EnvoyProcess,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for TestEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEdge")
            .field("listen", &self.envoy.listen_addr())
            .finish()
    }
}

impl TestEdge {
    /// Starts Envoy (from `tribe_infra::envoy::envoy_binary()`) routing to `upstream`.
    pub async fn start(
        upstream: tribe_infra::envoy::Upstream,
        jwks: &Path,
    ) -> anyhow::Result<Self> {
        let params = tribe_infra::envoy::EnvoyParams::new(
            free_addr(),
            free_addr(),
            jwks.to_path_buf(),
            vec![upstream],
        );
        let dir = tempfile::tempdir()?;
        let envoy = tribe_infra::envoy::EnvoyProcess::start(
            &tribe_infra::envoy::envoy_binary(),
            &params,
            dir.path(),
        )
        .await?;
        Ok(Self { envoy, _dir: dir })
    }

    /// The edge's base URL (gRPC and gRPC-Web).
    pub fn url(&self) -> String {
        format!("http://{}", self.envoy.listen_addr())
    }
}
