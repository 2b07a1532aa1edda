//! Shared fixtures of the fitness integration tests: a fresh database, Kafka topics
//! with a private suffix and keys per test, the service on a free port, and people as
//! token holders (members, trainers, admins, premium members). `start_with_users`
//! also runs the real user service, for what needs accounts to exist (coaching
//! invitations, creator summaries, preferred time zones).
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tribe_fitness::config::Config;
use tribe_kit::config::{KafkaConfig, ServerConfig, WorkerConfig};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::fitness_service_client::FitnessServiceClient;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};
use uuid::Uuid;

pub use tribe_testkit::{mask, request_id, unique, violated_fields};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_fitness::policy::ERROR_DOMAIN, code, reason)
}

pub type Client = FitnessServiceClient<Channel>;

/// Every topic a fitness test may need.
pub const TOPICS: [&str; 4] = [
    "tribe.fitness.v1",
    "tribe.user.v1",
    "tribe.payment.v1",
    tribe_kit::kafka::DEAD_LETTER_TOPIC,
];

/// The user service of a test that needs real accounts.
#[allow(dead_code)] // the database lives as long as the server
pub struct Users {
    pub client: UserServiceClient<Channel>,
    pub server: TestServer,
    pub db: TestDb,
}

/// Fields drop in order: the servers stop before their databases go away.
#[allow(dead_code)] // not every test reads every part
pub struct Env {
    pub client: Client,
    pub server: TestServer,
    pub users: Option<Users>,
    pub config: Config,
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
        service_key_file: Some(keys.service_key_path("fitness")),
        user_url: None,
        payment_url: None,
        entitlement_ttl: Duration::from_secs(60),
        challenge_interval: Duration::from_secs(1),
        page_token_secret: tribe_testkit::page_secret(),
        workers: WorkerConfig::ALL,
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts the service after `adjust` edits its configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&TOPICS).await.expect("kafka topics");
    start_in(keys, kafka, None, adjust).await
}

/// Starts the service with keys and topics the caller made (to share them with other
/// services it starts), after `adjust` edits its configuration.
pub async fn start_with_keys(
    keys: TestKeys,
    kafka: KafkaConfig,
    adjust: impl FnOnce(&mut Config),
) -> Env {
    start_in(keys, kafka, None, adjust).await
}

/// Starts the user service, then the fitness service pointed at it.
pub async fn start_with_users() -> Env {
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&TOPICS).await.expect("kafka topics");
    let db = TestDb::create(&tribe_user::MIGRATOR)
        .await
        .expect("user database");
    let user_config = tribe_user::config::Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        redis: tribe_testkit::redis_config(),
        signing_key_file: keys.issuer_key_path(),
        page_token_secret: tribe_testkit::page_secret(),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: tribe_user::config::Limits::default(),
        workers: WorkerConfig::ALL,
    };
    let server = TestServer::start::<tribe_user::App>(user_config)
        .await
        .expect("start the user service");
    let client = UserServiceClient::new(server.channel().await.expect("user channel"));
    let users = Users { client, server, db };
    start_in(keys, kafka, Some(users), |_| {}).await
}

async fn start_in(
    keys: TestKeys,
    kafka: KafkaConfig,
    users: Option<Users>,
    adjust: impl FnOnce(&mut Config),
) -> Env {
    let db = TestDb::create(&tribe_fitness::MIGRATOR)
        .await
        .expect("fitness database");
    let mut config = config(&db, &keys, &kafka);
    if let Some(users) = &users {
        config.user_url = Some(users.server.url());
    }
    adjust(&mut config);
    let server = TestServer::start::<tribe_fitness::App>(config.clone())
        .await
        .expect("start the fitness service");
    let client = FitnessServiceClient::new(server.channel().await.expect("channel"));
    Env {
        client,
        server,
        users,
        config,
        kafka,
        keys,
        db,
    }
}

/// Someone holding an access token.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Uuid,
    pub token: String,
}

impl Person {
    /// `message` as a request carrying this person's access token.
    pub fn req<T>(&self, message: T) -> tonic::Request<T> {
        authed(message, &self.token)
    }

    pub fn id_str(&self) -> String {
        self.id.to_string()
    }
}

impl Env {
    /// A person with a fresh id, `roles` and the token tier claim `tier`.
    pub fn person(&self, roles: &[&str], tier: &str) -> Person {
        let id = Uuid::now_v7();
        Person {
            id,
            token: self
                .keys
                .access_token_with_tier(&id.to_string(), roles, tier),
        }
    }

    /// A free-tier member.
    pub fn member(&self) -> Person {
        self.person(&["user"], "free")
    }

    /// A member whose token says premium.
    pub fn premium_member(&self) -> Person {
        self.person(&["user"], "premium")
    }

    /// A trainer (free tier).
    pub fn trainer(&self) -> Person {
        self.person(&["user", "trainer"], "free")
    }

    /// An admin.
    pub fn admin(&self) -> Person {
        self.person(&["user", "admin"], "free")
    }

    /// A real account in the user service (`start_with_users`); a trainer when
    /// `trainer`.
    pub async fn register(&self, handle: &str, trainer: bool) -> Person {
        let users = self.users.as_ref().expect("start_with_users");
        let response = users
            .client
            .clone()
            .register(upb::RegisterRequest {
                email: format!("{handle}@example.com"),
                password: "correct horse battery staple".into(),
                handle: handle.into(),
                display_name: format!("{handle} display"),
                account_type: if trainer {
                    upb::AccountType::Trainer
                } else {
                    upb::AccountType::Member
                } as i32,
            })
            .await
            .unwrap_or_else(|s| panic!("register {handle}: {s:?}"))
            .into_inner();
        let user = response.user.expect("user");
        Person {
            id: user.user_id.parse().expect("uuid"),
            token: response.tokens.expect("tokens").access_token,
        }
    }

    /// A fresh client on the same channel (for concurrent calls).
    pub fn client(&self) -> Client {
        self.client.clone()
    }
}

/// A catalog exercise id by its seeded name (ListExercises with the name as query).
pub async fn exercise_id(client: &mut Client, who: &Person, name: &str) -> String {
    let found = client
        .list_exercises(who.req(pb::ListExercisesRequest {
            query: name.into(),
            page_size: 50,
            ..Default::default()
        }))
        .await
        .unwrap_or_else(|s| panic!("list exercises {name}: {s:?}"))
        .into_inner()
        .exercises;
    found
        .into_iter()
        .find(|e| e.name.eq_ignore_ascii_case(name))
        .unwrap_or_else(|| panic!("no seeded exercise named {name}"))
        .exercise_id
}
