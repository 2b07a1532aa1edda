//! Shared fixtures of the analytics integration tests: a fresh database, Redis prefix,
//! topics and keys per test, the service on a free port, and a producer that publishes
//! synthetic domain events through the real outbox path (envelope + enqueue + relay).
use std::time::Duration;

use chrono::{DateTime, Utc};
use prost::Message as _;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tribe_analytics::config::Config;
use tribe_analytics::ingest::TOPICS;
use tribe_kit::config::{KafkaConfig, ServerConfig, WorkerConfig};
use tribe_kit::outbox::{AfterPublish, OutboxRelay};
use tribe_proto::analytics::v1 as pb;
use tribe_proto::analytics::v1::analytics_service_client::AnalyticsServiceClient;
use tribe_proto::events::v1::{Event, event::Payload};
use tribe_proto::r#type::v1::{Granularity, TimeRange};
use tribe_testkit::{TestDb, TestKeys, TestServer};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_analytics::policy::ERROR_DOMAIN, code, reason)
}

/// The fields named by an INVALID_ARGUMENT, sorted (analytics validates in no fixed order).
pub fn violated_fields(status: &Status) -> Vec<String> {
    let mut fields = tribe_testkit::violated_fields(status);
    fields.sort();
    fields
}

pub type Client = AnalyticsServiceClient<Channel>;

/// Fields drop in order: the server stops before its database goes away.
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub producer: Producer,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
}

/// Every topic a test needs: the consumed ones and the dead-letter topic.
pub fn all_topics() -> Vec<&'static str> {
    let mut topics = TOPICS.to_vec();
    topics.push(tribe_kit::kafka::DEAD_LETTER_TOPIC);
    topics
}

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        redis: tribe_testkit::redis_config(),
        track_events_per_minute: 1200,
        raw_retention: Duration::from_secs(400 * 86_400),
        content_url: None,
        service_key_file: None,
        workers: WorkerConfig::ALL,
    }
}

pub async fn spawn(config: Config) -> TestServer {
    TestServer::start::<tribe_analytics::App>(config)
        .await
        .expect("start the analytics service")
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts the service after `adjust` edits its configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let db = TestDb::create(&tribe_analytics::MIGRATOR)
        .await
        .expect("test database");
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&all_topics())
        .await
        .expect("kafka topics");
    let mut config = config(&db, &keys, &kafka);
    adjust(&mut config);
    let server = spawn(config).await;
    let client = AnalyticsServiceClient::new(server.channel().await.expect("channel"));
    let producer = Producer::new(&kafka).await;
    Env {
        db,
        keys,
        kafka,
        server,
        client,
        producer,
    }
}

/// A stand-in for another service: its own database with an outbox, relayed to Kafka by
/// the kit's relay exactly as the real services do.
pub struct Producer {
    pub db: TestDb,
    pub relay: OutboxRelay,
}

impl Producer {
    pub async fn new(kafka: &KafkaConfig) -> Self {
        let db = TestDb::empty().await.expect("producer database");
        sqlx::raw_sql(
            "CREATE TABLE outbox (
               id bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE, topic text NOT NULL,
               key text NOT NULL, payload bytea NOT NULL, traceparent text NOT NULL DEFAULT '',
               created_at timestamptz NOT NULL DEFAULT now(), sent_at timestamptz,
               attempts int NOT NULL DEFAULT 0, leased_until timestamptz);",
        )
        .execute(&db.pool)
        .await
        .expect("outbox table");
        let relay = OutboxRelay::new(db.pool.clone(), kafka.clone())
            .expect("relay")
            .with_lease(Duration::from_millis(200));
        Self { db, relay }
    }

    /// Enqueues one event that happened at `at` on `topic`; returns it.
    pub async fn enqueue(
        &self,
        topic: &str,
        aggregate: &str,
        actor: &str,
        at: DateTime<Utc>,
        payload: Payload,
    ) -> Event {
        let mut event = tribe_kit::outbox::envelope("test", aggregate, actor, payload);
        event.occur_time = Some(ts(at));
        let mut tx = self.db.pool.begin().await.unwrap();
        tribe_kit::outbox::enqueue(&mut tx, topic, &event)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        event
    }

    /// Publishes everything enqueued (a relay round sends its rows together, so they
    /// share record batches).
    pub async fn flush(&self) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let left: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&self.db.pool)
                .await
                .unwrap();
            if left == 0 {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "outbox did not drain"
            );
            if let Err(err) = self.relay.relay_once(AfterPublish::MarkSent).await {
                eprintln!("relay: {err:#}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }

    /// Enqueues and publishes one event.
    pub async fn emit(
        &self,
        topic: &str,
        aggregate: &str,
        actor: &str,
        at: DateTime<Utc>,
        payload: Payload,
    ) -> Event {
        let event = self.enqueue(topic, aggregate, actor, at, payload).await;
        self.flush().await;
        event
    }
}

/// Publishes raw bytes to a logical topic with a plain idempotent producer (for
/// redeliveries and poison messages).
pub async fn publish_raw(kafka: &KafkaConfig, topic: &str, key: &str, payload: &[u8]) {
    let producer = tribe_kit::kafka::producer(kafka).unwrap();
    let topic = kafka.topic(topic);
    producer
        .send(
            rdkafka::producer::FutureRecord::to(&topic)
                .key(key)
                .payload(payload),
            Duration::from_secs(30),
        )
        .await
        .map_err(|(e, _)| e)
        .expect("publish");
}

pub async fn republish(kafka: &KafkaConfig, topic: &str, event: &Event) {
    publish_raw(kafka, topic, &event.aggregate_id, &event.encode_to_vec()).await;
}

/// Waits until the consumer has applied at least `n` events.
pub async fn wait_processed(pool: &sqlx::PgPool, n: i64) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
            .fetch_one(pool)
            .await
            .unwrap();
        if done >= n {
            return done;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {done} of {n} events processed"
        );
        if std::env::var("TRACE_WAIT").is_ok() {
            eprintln!("{:?} processed {done}", chrono::Utc::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sum of one rollup counter over all time.
pub async fn counter(pool: &sqlx::PgPool, subject: &str, metric: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(sum(value), 0)::bigint FROM rollup_hourly WHERE subject = $1 AND metric = $2")
        .bind(subject)
        .bind(metric)
        .fetch_one(pool)
        .await
        .unwrap()
}

pub fn ts(t: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

pub fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<TimeRange> {
    Some(TimeRange {
        start_time: Some(ts(start)),
        end_time: Some(ts(end)),
        ..Default::default()
    })
}

/// A GetUserAnalytics request for `user` over `[start, end)`.
pub fn user_req(
    user: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    granularity: i32,
) -> pb::GetUserAnalyticsRequest {
    pb::GetUserAnalyticsRequest {
        user_id: user.into(),
        time_range: range(start, end),
        granularity,
    }
}

pub const HOUR: i32 = Granularity::Hour as i32;
pub const DAY: i32 = Granularity::Day as i32;
pub const WEEK: i32 = Granularity::Week as i32;

pub fn id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A stand-in for the content service's internal BatchGetPosts (the only method the
/// analytics service calls), served over real gRPC. It verifies the caller's service
/// credential against `verifier` and records who called.
pub mod content_stub {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use futures::future::BoxFuture;
    use tonic::server::NamedService;
    use tonic::{Request, Response, Status};
    use tribe_kit::auth::{Principal, TokenVerifier};
    use tribe_proto::content::v1 as cpb;
    use tribe_proto::r#type::v1::UserSummary;

    #[derive(Clone)]
    pub struct Stub {
        /// (post id, author id) of the posts that exist.
        pub posts: Arc<Vec<(String, String)>>,
        pub verifier: TokenVerifier,
        /// Services that called, by credential.
        pub callers: Arc<Mutex<Vec<String>>>,
    }

    impl NamedService for Stub {
        const NAME: &'static str = "trainertribe.content.v1.ContentService";
    }

    struct BatchGet(Stub);

    impl tonic::server::UnaryService<cpb::BatchGetPostsRequest> for BatchGet {
        type Response = cpb::BatchGetPostsResponse;
        type Future = BoxFuture<'static, Result<Response<Self::Response>, Status>>;

        fn call(&mut self, request: Request<cpb::BatchGetPostsRequest>) -> Self::Future {
            let stub = self.0.clone();
            Box::pin(async move {
                let token = request
                    .metadata()
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .ok_or_else(|| Status::unauthenticated("no token"))?;
                match stub.verifier.verify(token) {
                    Ok(Principal::Service(name)) => stub.callers.lock().unwrap().push(name),
                    _ => return Err(Status::permission_denied("service credential required")),
                }
                let wanted = request.into_inner().post_ids;
                let posts = stub
                    .posts
                    .iter()
                    .filter(|(id, _)| wanted.contains(id))
                    .map(|(id, author)| cpb::Post {
                        post_id: id.clone(),
                        author: Some(UserSummary {
                            user_id: author.clone(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                    .collect();
                Ok(Response::new(cpb::BatchGetPostsResponse { posts }))
            })
        }
    }

    impl<B> tower::Service<http::Request<B>> for Stub
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    {
        type Response = http::Response<tonic::body::Body>;
        type Error = Infallible;
        type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<B>) -> Self::Future {
            let stub = self.clone();
            Box::pin(async move {
                if request.uri().path() != "/trainertribe.content.v1.ContentService/BatchGetPosts" {
                    return Ok(Status::unimplemented("stub").into_http());
                }
                let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
                Ok(grpc.unary(BatchGet(stub), request).await)
            })
        }
    }

    /// Serves the stub on a free port until the test ends; returns its URL.
    pub async fn serve(stub: Stub) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(stub)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        format!("http://{addr}")
    }
}

/// A `MessageSent` by `sender`: the simplest event that moves a counter.
pub fn message(sender: &str) -> Payload {
    Payload::MessageSent(tribe_proto::events::v1::MessageSent {
        conversation_id: id(),
        message_id: id(),
        sender_id: sender.into(),
        ..Default::default()
    })
}
