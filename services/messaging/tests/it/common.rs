//! Shared fixtures of the messaging service's integration tests: a fresh database, Redis
//! prefix, topics and keys per test, the service on a free port, users as token holders,
//! and helpers to read the live event stream (native gRPC and gRPC-Web).
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};
use tribe_kit::config::{KafkaConfig, ServerConfig, WorkerConfig};
use tribe_kit::scylla::CqlConfig;
use tribe_messaging::config::{Config, Limits};
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use tribe_proto::messaging::v1::stream_events_response::Event;
use tribe_testkit::cql::TestKeyspace;
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};

pub use tribe_testkit::{eventually, violated_fields};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_messaging::policy::ERROR_DOMAIN, code, reason)
}

pub type Client = MessagingServiceClient<Channel>;

/// Fields drop in order: the server stops before its database goes away.
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub config: Config,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
    /// The CQL keyspace of the message store when it is on the CQL server (`start_cql`).
    pub cql: Option<TestKeyspace>,
}

pub const TOPICS: [&str; 5] = [
    "tribe.user.v1",
    "tribe.content.v1",
    "tribe.messaging.v1",
    "tribe.fitness.v1",
    tribe_kit::kafka::DEAD_LETTER_TOPIC,
];

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        redis: tribe_testkit::redis_config(),
        page_token_secret: tribe_testkit::page_secret(),
        cql: None,
        scylla_bucket: Duration::from_secs(3600),
        limits: Limits {
            sends_per_window: 1000,
            ..Limits::default()
        },
        user_url: None,
        service_key_file: None,
        heartbeat: Duration::from_secs(25),
        workers: WorkerConfig::ALL,
    }
}

pub async fn spawn(config: Config) -> TestServer {
    TestServer::start::<tribe_messaging::App>(config)
        .await
        .expect("start the messaging service")
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts the service after `adjust` edits its configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let db = TestDb::create(&tribe_messaging::MIGRATOR)
        .await
        .expect("test database");
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&TOPICS).await.expect("kafka topics");
    let mut config = config(&db, &keys, &kafka);
    adjust(&mut config);
    let server = spawn(config.clone()).await;
    let client = MessagingServiceClient::new(server.channel().await.expect("channel"));
    Env {
        db,
        keys,
        kafka,
        server,
        client,
        config,
        cql: None,
    }
}

/// Starts the service with its message store on the test run's CQL server, in a fresh
/// keyspace.
pub async fn start_cql() -> Env {
    let keyspace = TestKeyspace::new().expect("CQL keyspace");
    let cql = keyspace.config();
    start_cql_with(keyspace, cql, |_| {}).await
}

/// Like `start_cql`, with the store's CQL configuration given (e.g. contact points that
/// are a proxy in front of the server) and `adjust` applied last.
pub async fn start_cql_with(
    keyspace: TestKeyspace,
    cql: CqlConfig,
    adjust: impl FnOnce(&mut Config),
) -> Env {
    let mut env = start_with(|c| {
        c.cql = Some(cql);
        adjust(c);
    })
    .await;
    env.cql = Some(keyspace);
    env
}

/// A user: an id and an access token from the test issuer.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub token: String,
}

/// `message` as a call by `user` (its bearer token).
pub fn req<T>(user: &User, message: T) -> tonic::Request<T> {
    authed(message, &user.token)
}

impl Env {
    /// A new user with a token from the test issuer.
    pub fn user(&self) -> User {
        let id = uuid::Uuid::now_v7().to_string();
        let token = self.keys.access_token(&id, &["user"]);
        User { id, token }
    }

    /// `a` opens (or finds) the direct conversation with `b`; its id.
    pub async fn direct(&self, a: &User, b: &User) -> String {
        let mut client = self.client.clone();
        client
            .create_conversation(req(
                a,
                pb::CreateConversationRequest {
                    user_id: b.id.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .conversation
            .unwrap()
            .conversation_id
    }

    /// `owner` creates a group with `members`; its id.
    pub async fn group(&self, owner: &User, members: &[&User]) -> String {
        let mut client = self.client.clone();
        client
            .create_group(req(
                owner,
                pb::CreateGroupRequest {
                    name: "Leg day crew".into(),
                    member_ids: members.iter().map(|m| m.id.clone()).collect(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .conversation
            .unwrap()
            .conversation_id
    }

    /// `from` sends `text` to `conversation` (a fresh request id).
    pub async fn send(&self, from: &User, conversation: &str, text: &str) -> pb::Message {
        let mut client = self.client.clone();
        client
            .send_message(req(
                from,
                pb::SendMessageRequest {
                    conversation_id: conversation.into(),
                    text: text.into(),
                    media_url: String::new(),
                    request_id: uuid::Uuid::new_v4().to_string(),
                },
            ))
            .await
            .unwrap_or_else(|s| panic!("send {text:?}: {s:?}"))
            .into_inner()
            .message
            .unwrap()
    }

    /// `who`'s unread counts.
    pub async fn unread(&self, who: &User) -> pb::UnreadCounts {
        let mut client = self.client.clone();
        client
            .get_unread_counts(req(who, pb::GetUnreadCountsRequest {}))
            .await
            .unwrap()
            .into_inner()
            .unread_counts
            .unwrap()
    }

    /// Opens a native gRPC event stream and consumes its first heartbeat.
    pub async fn open_stream(&self, who: &User) -> Streaming<pb::StreamEventsResponse> {
        let mut client = self.client.clone();
        let mut stream = client
            .stream_events(req(who, pb::StreamEventsRequest {}))
            .await
            .unwrap()
            .into_inner();
        let first = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("first event")
            .unwrap()
            .unwrap();
        assert!(
            matches!(first.event, Some(Event::Heartbeat(_))),
            "the first event is a heartbeat: {first:?}"
        );
        stream
    }

    /// Proves a CQL variant ran on the CQL store: its keyspace holds conversations and
    /// PostgreSQL's table none.
    pub async fn assert_stored_on_cql(&self) {
        let keyspace = self.cql.as_ref().expect("started with start_cql");
        let session = keyspace.session().await.expect("CQL session");
        let rows = session
            .query_unpaged("SELECT conversation_id FROM conversations", ())
            .await
            .unwrap()
            .into_rows_result()
            .unwrap();
        assert!(
            rows.rows_num() > 0,
            "conversations in CQL keyspace {}",
            keyspace.name
        );
        let in_pg: i64 = sqlx::query_scalar("SELECT count(*) FROM conversations")
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
        assert_eq!(in_pg, 0, "no conversation in PostgreSQL");
    }

    /// Publishes events to a (suffixed) topic through the real producer path: the kit's
    /// envelope, an outbox table and the relay — here a scratch outbox in the test database
    /// standing in for the producing service's own.
    pub async fn produce(&self, logical_topic: &str, events: &[tribe_proto::events::v1::Event]) {
        let mut tx = self.db.pool.begin().await.unwrap();
        for event in events {
            tribe_kit::outbox::enqueue(&mut tx, logical_topic, event)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// Publishes events straight to the broker with the kit's idempotent producer (used to
    /// re-deliver an event that already went through an outbox).
    pub async fn produce_direct(
        &self,
        logical_topic: &str,
        events: &[tribe_proto::events::v1::Event],
    ) {
        let events: Vec<_> = events.iter().collect();
        tribe_testkit::publish(&self.kafka, logical_topic, &events)
            .await
            .unwrap();
    }
}

/// The next non-heartbeat event, or panics after `wait`.
pub async fn next_event(stream: &mut Streaming<pb::StreamEventsResponse>, wait: Duration) -> Event {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let item = tokio::time::timeout(left, stream.message())
            .await
            .expect("an event within the deadline");
        match item {
            Ok(Some(pb::StreamEventsResponse {
                event: Some(Event::Heartbeat(_)),
            })) => continue,
            Ok(Some(pb::StreamEventsResponse { event: Some(event) })) => return event,
            other => panic!("stream ended or failed: {other:?}"),
        }
    }
}

/// Events until one matches `want` (returned); panics after `wait`.
pub async fn wait_for(
    stream: &mut Streaming<pb::StreamEventsResponse>,
    wait: Duration,
    want: impl Fn(&Event) -> bool,
) -> (Event, Vec<Event>) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut skipped = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "no matching event; saw {skipped:?}");
        let event = next_event(stream, left).await;
        if want(&event) {
            return (event, skipped);
        }
        skipped.push(event);
    }
}

/// Asserts that no non-heartbeat event arrives within `quiet`.
pub async fn assert_quiet(
    stream: &mut Streaming<pb::StreamEventsResponse>,
    quiet: Duration,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + quiet;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, stream.message()).await {
            Err(_) => return,
            Ok(Ok(Some(pb::StreamEventsResponse {
                event: Some(Event::Heartbeat(_)),
            }))) => continue,
            Ok(other) => panic!("{what}: unexpected {other:?}"),
        }
    }
}

/// A server-streaming gRPC-Web call over HTTP/1.1 as a browser makes it: the response
/// body is a chunked sequence of length-prefixed frames, messages (flag 0) then one
/// trailer frame (flag 0x80) carrying grpc-status.
pub mod grpc_web_stream {
    use prost::Message;

    pub struct WebStream {
        response: reqwest::Response,
        buffer: Vec<u8>,
        done: bool,
    }

    /// One item of the stream: a message, or the final status code and message.
    #[derive(Debug)]
    pub enum Item<T> {
        Message(T),
        End(i32, String),
    }

    pub async fn open<Req: Message>(
        base_url: &str,
        path: &str,
        request: &Req,
        token: &str,
    ) -> anyhow::Result<WebStream> {
        let body = request.encode_to_vec();
        let mut framed = Vec::with_capacity(body.len() + 5);
        framed.push(0u8);
        framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        framed.extend_from_slice(&body);
        let client = reqwest::Client::builder().http1_only().build()?;
        let response = client
            .post(format!("{base_url}{path}"))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .header("origin", "http://localhost:3000")
            .header("authorization", format!("Bearer {token}"))
            .body(framed)
            .send()
            .await?;
        anyhow::ensure!(
            response.version() == reqwest::Version::HTTP_11,
            "expected HTTP/1.1, got {:?}",
            response.version()
        );
        let mut stream = WebStream {
            response,
            buffer: Vec::new(),
            done: false,
        };
        // A trailers-only answer (an error before any message) comes in the headers.
        if let Some(status) = stream
            .response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
        {
            let message = stream
                .response
                .headers()
                .get("grpc-message")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            stream.buffer = trailer_frame(status, &message);
        }
        Ok(stream)
    }

    fn trailer_frame(status: &str, message: &str) -> Vec<u8> {
        let text = format!("grpc-status:{status}\r\ngrpc-message:{message}\r\n");
        let mut frame = vec![0x80];
        frame.extend_from_slice(&(text.len() as u32).to_be_bytes());
        frame.extend_from_slice(text.as_bytes());
        frame
    }

    impl WebStream {
        /// The next frame; `None` once the trailers were returned or the body ended.
        pub async fn next<T: Message + Default>(&mut self) -> anyhow::Result<Option<Item<T>>> {
            loop {
                if self.done {
                    return Ok(None);
                }
                if self.buffer.len() >= 5 {
                    let flag = self.buffer[0];
                    let len = u32::from_be_bytes([
                        self.buffer[1],
                        self.buffer[2],
                        self.buffer[3],
                        self.buffer[4],
                    ]) as usize;
                    if self.buffer.len() >= 5 + len {
                        let frame: Vec<u8> = self.buffer.drain(..5 + len).skip(5).collect();
                        if flag & 0x80 == 0 {
                            return Ok(Some(Item::Message(T::decode(frame.as_slice())?)));
                        }
                        let (mut code, mut message) = (2, String::new());
                        for line in String::from_utf8_lossy(&frame).split("\r\n") {
                            if let Some((key, value)) = line.split_once(':') {
                                match key.trim().to_ascii_lowercase().as_str() {
                                    "grpc-status" => code = value.trim().parse()?,
                                    "grpc-message" => message = value.trim().to_string(),
                                    _ => {}
                                }
                            }
                        }
                        self.done = true;
                        return Ok(Some(Item::End(code, message)));
                    }
                }
                match self.response.chunk().await? {
                    Some(chunk) => self.buffer.extend_from_slice(&chunk),
                    None => {
                        self.done = true;
                        return Ok(None);
                    }
                }
            }
        }
    }
}
