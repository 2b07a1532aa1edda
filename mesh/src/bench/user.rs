//! The user-service side of the bench: a user service started in this process on a fresh,
//! seeded database (or one already running, `--target`), and the calls of the `login`,
//! `get-user`, `follow` and `list-followers` scenarios.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::FutureExt;
use sqlx::PgPool;
use tonic::transport::Channel;
use tribe_kit::auth::{KeyPair, KeySet};
use tribe_kit::bootstrap::Service as _;
use tribe_kit::config::{DatabaseConfig, PageSecret, RedisConfig, WorkerConfig};
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use uuid::Uuid;

use super::clients::{self, pick};
use super::echo::{self, Spawned};
use super::load::CallFn;
use crate::seed::{self, SEED_PASSWORD, SeedOptions};
use crate::ui;

/// Where the user scenarios go.
#[derive(Debug, Clone)]
pub enum UserTarget {
    /// Start `tribe_user::App` here on a fresh database: `database_url` if given (it is
    /// migrated and seeded), else a `bench_<uuid>` database created on `postgres_url` and
    /// dropped afterwards.
    InProcess {
        database_url: Option<String>,
        postgres_url: String,
        users: usize,
        avg_follows: usize,
    },
    /// A running user service (`tribe up`) whose database `tribe seed` filled.
    Running { url: String, database_url: String },
}

/// A reachable user service with seeded accounts and tokens for some of them.
pub struct UserEnv {
    pub url: String,
    pub pool: PgPool,
    /// Seeded user ids, by seed number.
    pub ids: Arc<Vec<Uuid>>,
    /// Seed numbers of `ids`.
    pub numbers: Arc<Vec<i64>>,
    /// (user id, access token) of logged-in seeded users.
    pub sessions: Arc<Vec<(Uuid, String)>>,
    server: Option<Spawned>,
    owned_database: Option<(String, String)>,
}

impl std::fmt::Debug for UserEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserEnv")
            .field("url", &self.url)
            .field("users", &self.ids.len())
            .finish_non_exhaustive()
    }
}

impl UserEnv {
    /// Starts or reaches the user service; `issuer` signs its tokens when in process and
    /// `keys_dir` receives its key files.
    pub async fn prepare(
        target: &UserTarget,
        issuer: &KeyPair,
        keys_dir: &Path,
        sessions: usize,
    ) -> anyhow::Result<Self> {
        let (url, pool, server, owned_database) = match target {
            UserTarget::InProcess {
                database_url,
                postgres_url,
                users,
                avg_follows,
            } => {
                let (database_url, owned) = match database_url {
                    Some(url) => (url.clone(), None),
                    None => {
                        let name = format!("bench_{}", Uuid::new_v4().simple());
                        tribe_kit::db::ensure_database(postgres_url, &name).await?;
                        (
                            with_database(postgres_url, &name),
                            Some((postgres_url.clone(), name)),
                        )
                    }
                };
                let pool = tribe_kit::db::connect(&database_url, 8).await?;
                tribe_kit::db::migrate(&pool, &tribe_user::MIGRATOR).await?;
                ui::detail(format!(
                    "seeding {users} users, ~{avg_follows} follows each"
                ));
                let seeded = seed::seed(
                    &pool,
                    SeedOptions {
                        users: *users,
                        avg_follows: *avg_follows,
                        progress: false,
                    },
                )
                .await?;
                ui::ok(format!(
                    "seeded {} users, {} follows in {:.1}s",
                    seeded.users,
                    seeded.follows,
                    seeded.elapsed.as_secs_f64()
                ));
                let config = in_process_config(&database_url, issuer, keys_dir)?;
                let app = tribe_user::App::build(config)
                    .await
                    .context("build the user service")?;
                let server =
                    echo::spawn(move |listener, shutdown| app.serve(listener, shutdown.boxed()))
                        .await?;
                (server.url(), pool, Some(server), owned)
            }
            UserTarget::Running { url, database_url } => {
                let pool = tribe_kit::db::connect(database_url, 4).await?;
                (url.clone(), pool, None, None)
            }
        };
        let seeded = seed::seeded_users(&pool, 100_000).await?;
        anyhow::ensure!(
            seeded.len() >= 2,
            "no seeded users in the user database: run `tribe seed` first"
        );
        let (ids, numbers): (Vec<Uuid>, Vec<i64>) = seeded.into_iter().unzip();

        // Real logins, so the tokens are whatever the service issues.
        let channel = clients::channels(&url, 1).await?.remove(0);
        let mut client = UserServiceClient::new(channel);
        let mut tokens = Vec::new();
        for n in numbers.iter().take(sessions.max(1)) {
            let reply = client
                .login(pb::LoginRequest {
                    email: seed::seed_email(*n),
                    password: SEED_PASSWORD.into(),
                })
                .await
                .with_context(|| format!("log in as seed_{n}"))?
                .into_inner();
            let user = reply.user.map(|u| u.user_id).unwrap_or_default();
            let token = reply.tokens.map(|t| t.access_token).unwrap_or_default();
            tokens.push((user.parse()?, token));
        }
        Ok(Self {
            url,
            pool,
            ids: Arc::new(ids),
            numbers: Arc::new(numbers),
            sessions: Arc::new(tokens),
            server,
            owned_database,
        })
    }

    /// Stops the in-process service and drops the database the bench created.
    pub async fn shutdown(self) {
        if let Some(server) = self.server {
            server.stop().await;
        }
        self.pool.close().await;
        if let Some((server, name)) = self.owned_database
            && let Err(err) = tribe_kit::db::drop_database(&server, &name).await
        {
            ui::note(format!("could not drop {name}: {err:#}"));
        }
    }

    /// The call of a user scenario over `channels` (direct or through the edge).
    pub fn call(&self, scenario: &str, channels: Vec<Channel>) -> anyhow::Result<CallFn> {
        let clients: Arc<Vec<UserServiceClient<Channel>>> =
            Arc::new(channels.into_iter().map(UserServiceClient::new).collect());
        let ids = self.ids.clone();
        let numbers = self.numbers.clone();
        let sessions = self.sessions.clone();
        let client = move |n: u64| clients[n as usize % clients.len()].clone();
        let call: CallFn = match scenario {
            "login" => Arc::new(move |n| {
                let mut client = client(n);
                let email = seed::seed_email(numbers[pick(n, numbers.len())]);
                async move {
                    client
                        .login(pb::LoginRequest {
                            email,
                            password: SEED_PASSWORD.into(),
                        })
                        .await
                        .map(drop)
                        .map_err(|s| s.code())
                }
                .boxed()
            }),
            "get-user" => Arc::new(move |n| {
                let mut client = client(n);
                let (_, token) = &sessions[n as usize % sessions.len()];
                let lookup =
                    pb::get_user_request::Lookup::UserId(ids[pick(n, ids.len())].to_string());
                let request = clients::request(
                    pb::GetUserRequest {
                        lookup: Some(lookup),
                    },
                    Some(token),
                );
                async move {
                    client
                        .get_user(request)
                        .await
                        .map(drop)
                        .map_err(|s| s.code())
                }
                .boxed()
            }),
            "follow" => Arc::new(move |n| {
                let mut client = client(n);
                let (me, token) = &sessions[n as usize % sessions.len()];
                let mut whom = ids[pick(n, ids.len())];
                if whom == *me {
                    whom = ids[(pick(n, ids.len()) + 1) % ids.len()];
                }
                let request = clients::request(
                    pb::FollowUserRequest {
                        user_id: whom.to_string(),
                    },
                    Some(token),
                );
                async move {
                    client
                        .follow_user(request)
                        .await
                        .map(drop)
                        .map_err(|s| s.code())
                }
                .boxed()
            }),
            "list-followers" => Arc::new(move |n| {
                let mut client = client(n);
                let (_, token) = &sessions[n as usize % sessions.len()];
                // Low seed numbers are the popular accounts: a full first page.
                let whom = ids[pick(n, ids.len().min(200))].to_string();
                let request = clients::request(
                    pb::ListFollowersRequest {
                        user_id: whom,
                        page_size: 20,
                        page_token: String::new(),
                    },
                    Some(token),
                );
                async move {
                    client
                        .list_followers(request)
                        .await
                        .map(drop)
                        .map_err(|s| s.code())
                }
                .boxed()
            }),
            other => anyhow::bail!("no user scenario {other}"),
        };
        Ok(call)
    }
}

/// The user service's settings for an in-process run: no outbox relay (no broker needed;
/// events stay in the outbox table), abuse limits out of the way, keys in `keys_dir`.
fn in_process_config(
    database_url: &str,
    issuer: &KeyPair,
    keys_dir: &Path,
) -> anyhow::Result<tribe_user::Config> {
    let signing = keys_dir.join("user-signing.pem");
    let jwks = keys_dir.join("jwks.json");
    std::fs::write(&signing, issuer.pem())?;
    std::fs::write(
        &jwks,
        KeySet::from_jwks(vec![issuer.jwk().clone()])?.to_json(),
    )?;
    Ok(tribe_user::Config {
        server: super::in_process_server(),
        auth: super::in_process_auth(jwks),
        kafka: super::in_process_kafka(),
        database: DatabaseConfig {
            migrate: false,
            ..DatabaseConfig::for_tests(database_url)
        },
        redis: RedisConfig {
            prefix: format!("bench:{}:", Uuid::new_v4().simple()),
            ..RedisConfig::from_env("TRIBE_USER", tribe_user::policy::SERVICE_NAME)
        },
        signing_key_file: signing,
        page_token_secret: PageSecret::random(),
        access_token_ttl: Duration::from_secs(3600),
        refresh_token_ttl: Duration::from_secs(3600),
        limits: tribe_user::config::Limits {
            window: Duration::from_secs(60),
            login_failures_per_account: u64::MAX / 2,
            login_failures_per_ip: u64::MAX / 2,
            registrations_per_ip: u64::MAX / 2,
        },
        workers: WorkerConfig {
            outbox_relay: false,
            consume_events: false,
        },
    })
}

pub(super) fn with_database(server_url: &str, name: &str) -> String {
    match server_url.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
            format!("{base}/{name}")
        }
        _ => format!("{server_url}/{name}"),
    }
}

/// What login spends on argon2id by design: the mean of a few verifications of the
/// seeded hash, in milliseconds, on one core.
pub async fn argon2_verify_ms() -> anyhow::Result<f64> {
    let hash = seed::seed_password_hash().await?;
    tokio::task::spawn_blocking(move || {
        use argon2::PasswordVerifier as _;
        let parsed =
            argon2::PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let rounds = 5;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            argon2::Argon2::default()
                .verify_password(SEED_PASSWORD.as_bytes(), &parsed)
                .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        }
        Ok(start.elapsed().as_secs_f64() * 1e3 / rounds as f64)
    })
    .await?
}
