//! Shared fixtures of the content service's integration tests: the user service and the
//! content service in-process, each on its own fresh database, sharing keys and a Kafka
//! topic suffix, so follows made through the user service reach the fan-out consumer.
use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};
use tribe_content::config::Config;
use tribe_kit::config::{DEFAULT_AUDIENCE, KafkaConfig, ServerConfig, WorkerConfig};
use tribe_kit::scylla::CqlConfig;
use tribe_proto::content::v1 as pb;
use tribe_proto::content::v1::content_service_client::ContentServiceClient;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use tribe_testkit::cql::TestKeyspace;
use tribe_testkit::{TestDb, TestKeys, TestServer, authed};

pub use tribe_testkit::{unique, violated_fields, wait_until};

/// Asserts a failed call's code and, when given, its `ErrorInfo` reason, and that the
/// error names this service's domain.
pub fn assert_status(status: &Status, code: Code, reason: Option<&str>) {
    tribe_testkit::assert_status(status, tribe_content::policy::ERROR_DOMAIN, code, reason)
}

pub type Client = ContentServiceClient<Channel>;
pub type Users = UserServiceClient<Channel>;

/// Fields drop in order: servers stop before their databases go away.
pub struct Env {
    pub client: Client,
    pub users: Users,
    pub server: TestServer,
    /// Held only so the user service runs as long as the test.
    #[allow(dead_code)]
    pub user_server: TestServer,
    pub config: Config,
    pub kafka: KafkaConfig,
    pub keys: TestKeys,
    pub db: TestDb,
    /// Held only so the user service's database outlives it.
    #[allow(dead_code)]
    pub user_db: TestDb,
    /// The CQL keyspace of the timelines when they are on the CQL server (`start_cql`).
    pub cql: Option<TestKeyspace>,
}

pub const TOPICS: [&str; 4] = [
    "tribe.user.v1",
    "tribe.payment.v1",
    "tribe.content.v1",
    tribe_kit::kafka::DEAD_LETTER_TOPIC,
];

pub fn config(db: &TestDb, keys: &TestKeys, kafka: &KafkaConfig, user_url: String) -> Config {
    Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: db.config(),
        redis: tribe_testkit::redis_config(),
        limits: tribe_content::limits::Allowances::default(),
        post_cache_ttl: Duration::from_secs(600),
        user_cache_ttl: Duration::from_secs(60),
        service_key_file: Some(keys.dir().join("svc.pem")),
        user_url,
        cql: None,
        fanout_threshold: 10_000,
        timeline_cap: 800,
        media_hosts: vec!["trainertribe.dev".into()],
        page_token_secret: tribe_testkit::page_secret(),
        workers: WorkerConfig::ALL,
        trending_interval: Duration::ZERO,
    }
}

pub async fn start() -> Env {
    start_with(|_| {}).await
}

/// Starts both services after `adjust` edits the content service's configuration.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Env {
    let keys = TestKeys::new().expect("keys");
    let kafka = tribe_testkit::kafka(&TOPICS).await.expect("kafka topics");
    let user_db = TestDb::create(&tribe_user::MIGRATOR)
        .await
        .expect("user database");
    let user_config = tribe_user::config::Config {
        server: ServerConfig::for_tests(),
        auth: keys.auth_config(),
        kafka: kafka.clone(),
        database: user_db.config(),
        redis: tribe_testkit::redis_config(),
        signing_key_file: keys.issuer_key_path(),
        page_token_secret: tribe_testkit::page_secret(),
        access_token_ttl: Duration::from_secs(900),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: tribe_user::config::Limits::default(),
        workers: WorkerConfig {
            outbox_relay: true,
            consume_events: false,
        },
    };
    let user_server = TestServer::start::<tribe_user::App>(user_config)
        .await
        .expect("start the user service");
    let users = UserServiceClient::new(user_server.channel().await.expect("user channel"));

    let db = TestDb::create(&tribe_content::MIGRATOR)
        .await
        .expect("content database");
    let mut config = config(&db, &keys, &kafka, user_server.url());
    adjust(&mut config);
    let server = TestServer::start::<tribe_content::App>(config.clone())
        .await
        .expect("start the content service");
    let client = ContentServiceClient::new(server.channel().await.expect("channel"));
    Env {
        client,
        users,
        server,
        user_server,
        config,
        kafka,
        keys,
        db,
        user_db,
        cql: None,
    }
}

/// Starts both services with the home and user timelines on the test run's CQL server,
/// in a fresh keyspace.
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

/// The post ids of `owner`'s home timeline as stored on the CQL server, newest first.
pub async fn cql_home(session: &scylla::client::session::Session, owner: &str) -> Vec<String> {
    let owner = uuid::Uuid::parse_str(owner).unwrap();
    let rows = session
        .query_unpaged(
            "SELECT post_id FROM home_timeline WHERE owner_id = ?",
            (owner,),
        )
        .await
        .unwrap();
    let rows = rows.into_rows_result().unwrap();
    rows.rows::<(Vec<u8>,)>()
        .unwrap()
        .map(|r| uuid::Uuid::from_slice(&r.unwrap().0).unwrap().to_string())
        .collect()
}

/// A registered account with its access token.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub handle: String,
    pub access: String,
}

impl Account {
    /// The same user with an admin token.
    pub fn admin(&self, keys: &TestKeys) -> Account {
        Account {
            access: keys.access_token(&self.id, &["user", "admin"]),
            ..self.clone()
        }
    }

    /// The same user with a token of the given subscription tier.
    pub fn with_tier(&self, keys: &TestKeys, tier: &str) -> Account {
        let (access, _) = keys
            .signer()
            .access_token(
                DEFAULT_AUDIENCE,
                &self.id,
                vec!["user".into()],
                tier,
                "test-session",
                Duration::from_secs(900),
            )
            .unwrap();
        Account {
            access,
            ..self.clone()
        }
    }
}

/// `message` as a request of `account` (its access token as the bearer).
pub fn as_user<T>(account: &Account, message: T) -> tonic::Request<T> {
    authed(message, &account.access)
}

pub fn post(text: &str) -> pb::Post {
    pb::Post {
        text: text.into(),
        r#type: pb::PostType::Regular as i32,
        ..Default::default()
    }
}

pub fn image(url: &str) -> pb::Media {
    pb::Media {
        r#type: pb::MediaType::Image as i32,
        url: url.into(),
        ..Default::default()
    }
}

/// The calls most tests make, through clones of the environment's clients (so they need
/// only `&Env` and work inside polling closures).
impl Env {
    /// A user that exists only as a token (enough for everything but follows).
    pub fn token_user(&self, roles: &[&str]) -> Account {
        let id = uuid::Uuid::now_v7().to_string();
        Account {
            access: self.keys.access_token(&id, roles),
            handle: String::new(),
            id,
        }
    }

    /// Registers an account in the user service.
    pub async fn register(&self, handle: &str, trainer: bool) -> Account {
        let response = self
            .users
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
        Account {
            id: response.user.expect("user").user_id,
            handle: handle.into(),
            access: response.tokens.expect("tokens").access_token,
        }
    }

    /// Publishes `post` by `author` (a fresh request id).
    pub async fn create(&self, author: &Account, post: pb::Post) -> pb::Post {
        self.client
            .clone()
            .create_post(as_user(
                author,
                pb::CreatePostRequest {
                    post: Some(post),
                    request_id: uuid::Uuid::new_v4().to_string(),
                },
            ))
            .await
            .unwrap_or_else(|s| panic!("create post: {s:?}"))
            .into_inner()
            .post
            .expect("post")
    }

    /// `follower` follows `followee` in the user service.
    pub async fn follow(&self, follower: &Account, followee: &Account) {
        self.users
            .clone()
            .follow_user(as_user(
                follower,
                upb::FollowUserRequest {
                    user_id: followee.id.clone(),
                },
            ))
            .await
            .expect("follow");
    }

    /// `follower` unfollows `followee` in the user service.
    pub async fn unfollow(&self, follower: &Account, followee: &Account) {
        self.users
            .clone()
            .unfollow_user(as_user(
                follower,
                upb::UnfollowUserRequest {
                    user_id: followee.id.clone(),
                },
            ))
            .await
            .expect("unfollow");
    }

    /// GetPost of `id` as `reader`.
    pub async fn get_post(&self, reader: &Account, id: &str) -> Result<pb::Post, Status> {
        self.client
            .clone()
            .get_post(as_user(reader, pb::GetPostRequest { post_id: id.into() }))
            .await
            .map(|r| r.into_inner().post.unwrap())
    }

    /// LikePost of `id` as `liker`.
    pub async fn like(&self, liker: &Account, id: &str) -> Result<pb::Post, Status> {
        self.client
            .clone()
            .like_post(as_user(liker, pb::LikePostRequest { post_id: id.into() }))
            .await
            .map(|r| r.into_inner().post.unwrap())
    }

    /// DeletePost of `id` as `caller`.
    pub async fn delete_post(&self, caller: &Account, id: &str) -> Result<(), Status> {
        self.client
            .clone()
            .delete_post(as_user(
                caller,
                pb::DeletePostRequest { post_id: id.into() },
            ))
            .await
            .map(|_| ())
    }

    /// ModeratePost of `id` as `caller`.
    pub async fn moderate(
        &self,
        caller: &Account,
        id: &str,
        action: pb::ModerationAction,
        reason: &str,
    ) -> Result<pb::Post, Status> {
        self.client
            .clone()
            .moderate_post(as_user(
                caller,
                pb::ModeratePostRequest {
                    post_id: id.into(),
                    action: action as i32,
                    reason: reason.into(),
                },
            ))
            .await
            .map(|r| r.into_inner().post.unwrap())
    }

    /// The first 100 posts of the reader's feed.
    pub async fn feed(&self, reader: &Account) -> Vec<pb::Post> {
        self.client
            .clone()
            .get_feed(as_user(
                reader,
                pb::GetFeedRequest {
                    page_size: 100,
                    page_token: String::new(),
                },
            ))
            .await
            .expect("feed")
            .into_inner()
            .posts
    }

    /// The ids of the first 100 posts of the reader's feed.
    pub async fn feed_ids(&self, reader: &Account) -> Vec<String> {
        self.feed(reader)
            .await
            .into_iter()
            .map(|p| p.post_id)
            .collect()
    }

    /// True when `id` is in the reader's feed.
    pub async fn in_feed(&self, reader: &Account, id: &str) -> bool {
        self.feed_ids(reader).await.iter().any(|p| p == id)
    }

    /// Polls the reader's feed until `id` is in it (`present`) or not, or fails after 30 s.
    pub async fn wait_feed(&self, reader: &Account, id: &str, present: bool) {
        let what = format!(
            "post {id} {} the feed of {}",
            if present { "appears in" } else { "leaves" },
            reader.id
        );
        wait_until(Duration::from_secs(30), &what, || {
            let mut client = self.client.clone();
            let (reader, id) = (reader.clone(), id.to_string());
            async move {
                let feed = client
                    .get_feed(as_user(
                        &reader,
                        pb::GetFeedRequest {
                            page_size: 100,
                            page_token: String::new(),
                        },
                    ))
                    .await
                    .unwrap()
                    .into_inner();
                feed.posts.iter().any(|p| p.post_id == id) == present
            }
        })
        .await;
    }

    /// How many posts are stored.
    pub async fn post_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM posts")
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// The first 50 posts of `author`'s profile (every kind) as `reader` sees them.
    pub async fn profile(&self, reader: &Account, author: &Account) -> Vec<pb::Post> {
        self.client
            .clone()
            .list_user_posts(as_user(
                reader,
                pb::ListUserPostsRequest {
                    user_id: author.id.clone(),
                    r#type: 0,
                    page_size: 50,
                    page_token: String::new(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .posts
    }
}
