//! The fitness side of the bench: a fitness service started in this process on a fresh
//! database with a training history per bench user, and the calls of the
//! `log-progress` (a three-exercise session of target vs actual, with its outbox event,
//! streak and records) and `progress-stats` (streaks, weekly series, muscle volume and
//! records over the user's whole history) scenarios.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures::{FutureExt, StreamExt};
use tonic::transport::Channel;
use tribe_kit::auth::{KeyPair, KeySet, TokenSigner};
use tribe_kit::bootstrap::Service as _;
use tribe_kit::config::{
    DEFAULT_AUDIENCE, DEFAULT_ISSUER, DatabaseConfig, PageSecret, WorkerConfig,
};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::fitness_service_client::FitnessServiceClient;
use uuid::Uuid;

use super::clients::{self, pick};
use super::echo::{self, Spawned};
use super::load::CallFn;
use super::user::with_database;
use crate::ui;

/// Bench users.
pub const USERS: usize = 32;

/// The seeded exercises a bench session uses.
const EXERCISES: [&str; 3] = [
    "Barbell back squat",
    "Barbell bench press",
    "Conventional deadlift",
];

/// A fitness service with bench users and their histories.
pub struct FitnessEnv {
    pub url: String,
    /// (user id, access token) of the bench users.
    users: Arc<Vec<(Uuid, String)>>,
    exercises: Arc<Vec<String>>,
    counter: Arc<AtomicU64>,
    server: Spawned,
    database: (String, String),
}

impl std::fmt::Debug for FitnessEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FitnessEnv")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A session of the bench exercises, `days_ago` days back (0 = now).
fn session(exercises: &[String], n: u64, days_ago: i64) -> pb::ProgressLog {
    let at = chrono::Utc::now() - chrono::Duration::days(days_ago) - chrono::Duration::minutes(1);
    let load = 40.0 + (n % 40) as f64 * 2.5;
    pb::ProgressLog {
        title: "Bench session".into(),
        duration_seconds: 3000,
        calories: 350,
        exercises: exercises
            .iter()
            .map(|id| pb::ExerciseLog {
                exercise_id: id.clone(),
                sets: (0..3)
                    .map(|i| pb::SetLog {
                        reps: 5 + i,
                        weight_kg: Some(load),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        completed_time: Some(prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }),
        ..Default::default()
    }
}

impl FitnessEnv {
    /// Creates a database on `postgres_url`, starts the service with `issuer`'s JWKS
    /// (key files in `keys_dir`) and logs `history` daily sessions for each of `USERS`
    /// users.
    pub async fn prepare(
        postgres_url: &str,
        history: usize,
        issuer: &Arc<KeyPair>,
        keys_dir: &Path,
    ) -> anyhow::Result<Self> {
        let name = format!("bench_fitness_{}", Uuid::new_v4().simple());
        tribe_kit::db::ensure_database(postgres_url, &name).await?;
        let database_url = with_database(postgres_url, &name);
        let config = in_process_config(&database_url, issuer, keys_dir)?;
        let app = tribe_fitness::App::build(config)
            .await
            .context("build the fitness service")?;
        let server =
            echo::spawn(move |listener, shutdown| app.serve(listener, shutdown.boxed())).await?;
        let url = server.url();
        let signer = TokenSigner::new(issuer.clone(), DEFAULT_ISSUER);
        let mut users = Vec::new();
        for _ in 0..USERS {
            let id = Uuid::now_v7();
            let (token, _) = signer
                .access_token(
                    DEFAULT_AUDIENCE,
                    &id.to_string(),
                    vec!["user".into()],
                    "free",
                    "bench",
                    Duration::from_secs(3600),
                )
                .map_err(|e| anyhow::anyhow!("mint a bench token: {e:?}"))?;
            users.push((id, token));
        }
        let channel = clients::channels(&url, 1).await?.remove(0);
        let client = FitnessServiceClient::new(channel);
        let mut exercises = Vec::new();
        for name in EXERCISES {
            let found = client
                .clone()
                .list_exercises(clients::request(
                    pb::ListExercisesRequest {
                        query: name.into(),
                        page_size: 20,
                        ..Default::default()
                    },
                    Some(&users[0].1),
                ))
                .await
                .with_context(|| format!("find {name}"))?
                .into_inner()
                .exercises;
            let exercise = found
                .into_iter()
                .find(|e| e.name == name)
                .with_context(|| format!("no seeded exercise {name}"))?;
            exercises.push(exercise.exercise_id);
        }
        ui::detail(format!(
            "logging {history} sessions for each of {USERS} users"
        ));
        let started = std::time::Instant::now();
        let jobs = users
            .iter()
            .flat_map(|(_, token)| (0..history).map(move |day| (token.clone(), day as i64)));
        let errors: Vec<anyhow::Error> = futures::stream::iter(jobs)
            .map(|(token, day)| {
                let mut client = client.clone();
                let log = session(&exercises, day as u64, day + 1);
                async move {
                    client
                        .log_progress(clients::request(
                            pb::LogProgressRequest {
                                progress_log: Some(log),
                                request_id: Uuid::new_v4().to_string(),
                            },
                            Some(&token),
                        ))
                        .await
                        .map(drop)
                        .map_err(|s| anyhow::anyhow!("seed LogProgress: {s}"))
                }
            })
            .buffer_unordered(16)
            .filter_map(|r| async move { r.err() })
            .collect()
            .await;
        if let Some(err) = errors.into_iter().next() {
            return Err(err);
        }
        ui::ok(format!(
            "fitness service at {url} with {} sessions in {:.1}s",
            USERS * history,
            started.elapsed().as_secs_f64()
        ));
        Ok(Self {
            url,
            users: Arc::new(users),
            exercises: Arc::new(exercises),
            counter: Arc::new(AtomicU64::new(0)),
            server,
            database: (postgres_url.to_string(), name),
        })
    }

    /// Stops the service and drops its database.
    pub async fn shutdown(self) {
        self.server.stop().await;
        let (server, name) = self.database;
        if let Err(err) = tribe_kit::db::drop_database(&server, &name).await {
            ui::note(format!("could not drop {name}: {err:#}"));
        }
    }

    /// The call of a fitness scenario over `channels`.
    pub fn call(&self, scenario: &str, channels: Vec<Channel>) -> anyhow::Result<CallFn> {
        let clients: Arc<Vec<FitnessServiceClient<Channel>>> = Arc::new(
            channels
                .into_iter()
                .map(FitnessServiceClient::new)
                .collect(),
        );
        let users = self.users.clone();
        let client = move |n: u64| clients[n as usize % clients.len()].clone();
        let call: CallFn = match scenario {
            "log-progress" => {
                let exercises = self.exercises.clone();
                let counter = self.counter.clone();
                Arc::new(move |n| {
                    let mut client = client(n);
                    let (_, token) = &users[pick(n, users.len())];
                    let serial = counter.fetch_add(1, Ordering::Relaxed);
                    let request = clients::request(
                        pb::LogProgressRequest {
                            progress_log: Some(session(&exercises, serial, 0)),
                            request_id: Uuid::new_v4().to_string(),
                        },
                        Some(token),
                    );
                    async move {
                        client
                            .log_progress(request)
                            .await
                            .map(drop)
                            .map_err(|s| s.code())
                    }
                    .boxed()
                })
            }
            "progress-stats" => Arc::new(move |n| {
                let mut client = client(n);
                let (id, token) = &users[pick(n, users.len())];
                let request = clients::request(
                    pb::GetProgressStatsRequest {
                        user_id: id.to_string(),
                        time_zone: "Europe/Paris".into(),
                        week_count: 12,
                    },
                    Some(token),
                );
                async move {
                    client
                        .get_progress_stats(request)
                        .await
                        .map(drop)
                        .map_err(|s| s.code())
                }
                .boxed()
            }),
            other => anyhow::bail!("no fitness scenario {other}"),
        };
        Ok(call)
    }
}

/// The fitness service's settings for an in-process run: no outbox relay (no broker
/// needed; events stay in the outbox table), no peers (the token's tier decides, time
/// zones come from the request), keys in `keys_dir`.
fn in_process_config(
    database_url: &str,
    issuer: &KeyPair,
    keys_dir: &Path,
) -> anyhow::Result<tribe_fitness::Config> {
    let jwks = keys_dir.join("fitness-jwks.json");
    std::fs::write(
        &jwks,
        KeySet::from_jwks(vec![issuer.jwk().clone()])?.to_json(),
    )?;
    Ok(tribe_fitness::Config {
        server: super::in_process_server(),
        auth: super::in_process_auth(jwks),
        kafka: super::in_process_kafka(),
        database: DatabaseConfig {
            max_connections: 16,
            ..DatabaseConfig::for_tests(database_url)
        },
        service_key_file: None,
        user_url: None,
        payment_url: None,
        entitlement_ttl: Duration::from_secs(60),
        challenge_interval: Duration::ZERO,
        page_token_secret: PageSecret::random(),
        workers: WorkerConfig {
            outbox_relay: false,
            consume_events: false,
        },
    })
}
