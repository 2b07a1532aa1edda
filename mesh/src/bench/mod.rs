//! `tribe bench`: load scenarios against the stack, each reported as a ratio to a bare
//! tonic echo measured in the same run (the machines are shared and noisy; a ratio to
//! the physical limit a minute earlier on the same box is what compares across runs).

pub mod clients;
pub mod echo;
pub mod fitness;
pub mod load;
pub mod report;
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::FutureExt;
use tribe_kit::auth::{KeyPair, KeySet, TokenSigner};
use tribe_kit::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use tribe_proto::bench::v1::EchoRequest;
use tribe_proto::bench::v1::echo_service_client::EchoServiceClient;

use crate::envoy::{EnvoyParams, EnvoyProcess, Upstream};
use crate::ui;
use load::{CallFn, LoadOptions, Mode};
use report::{Report, ScenarioResult};
pub use user::UserTarget;

/// The baseline every ratio refers to.
pub const BASELINE: &str = "echo-bare";

/// Every scenario, in the order `all` runs them, with what it measures.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("echo-bare", "bare tonic echo, no middleware (the baseline)"),
    (
        "echo-kit",
        "the echo behind the full kit stack (gRPC-Web layer, load shed, limits, JWT auth)",
    ),
    (
        "echo-envoy",
        "the bare echo through Envoy, native gRPC (jwt_authn, rate limit, router)",
    ),
    (
        "echo-envoy-web",
        "the bare echo through Envoy, gRPC-Web over HTTP/1.1",
    ),
    (
        "login",
        "Login of seeded users, direct (argon2id dominates by design)",
    ),
    ("get-user", "GetUser by id, direct"),
    (
        "follow",
        "FollowUser (idempotent writes + outbox row), direct",
    ),
    (
        "list-followers",
        "ListFollowers first page of popular accounts, direct",
    ),
    ("login-envoy", "Login through Envoy"),
    ("get-user-envoy", "GetUser through Envoy"),
    ("follow-envoy", "FollowUser through Envoy"),
    ("list-followers-envoy", "ListFollowers through Envoy"),
    (
        "log-progress",
        "LogProgress of a three-exercise session (target vs actual, outbox event, streak, records), direct",
    ),
    (
        "progress-stats",
        "GetProgressStats over the users' histories (streaks, 12 weeks, muscle volume, records), direct",
    ),
];

/// Groups accepted on the command line besides single scenario names.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("all", &[]),
    (
        "baselines",
        &["echo-bare", "echo-kit", "echo-envoy", "echo-envoy-web"],
    ),
    (
        "user",
        &[
            "login",
            "get-user",
            "follow",
            "list-followers",
            "login-envoy",
            "get-user-envoy",
            "follow-envoy",
            "list-followers-envoy",
        ],
    ),
    ("fitness", &["log-progress", "progress-stats"]),
];

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Scenario or group names.
    pub scenarios: Vec<String>,
    pub mode: Mode,
    pub warmup: Duration,
    pub duration: Duration,
    /// HTTP/2 connections per target (native gRPC).
    pub connections: usize,
    /// Echo payload size in bytes.
    pub payload: usize,
    pub user: UserTarget,
    /// The PostgreSQL server the fitness scenarios create their scratch database on.
    pub postgres_url: String,
    /// Sessions logged per bench user before the fitness scenarios.
    pub fitness_history: usize,
    /// The edge for the user scenarios through Envoy with `UserTarget::Running`
    /// (`tribe up`'s Envoy); otherwise the harness starts its own Envoy.
    pub edge: Option<String>,
    pub json: Option<PathBuf>,
    pub plot: Option<PathBuf>,
    pub progress: bool,
}

/// Server settings of a service the bench starts in process: limits out of the way of
/// the measurement, no drain pause.
pub(crate) fn in_process_server() -> tribe_kit::config::ServerConfig {
    let mut server = tribe_kit::config::ServerConfig::for_tests();
    server.max_concurrent = 4096;
    server.drain_delay = Duration::ZERO;
    server.drain_timeout = Duration::from_secs(2);
    server
}

/// Token checks of an in-process service: the bench issuer's JWKS at `jwks`.
pub(crate) fn in_process_auth(jwks: PathBuf) -> tribe_kit::config::AuthConfig {
    tribe_kit::config::AuthConfig {
        jwks_file: jwks,
        issuer: DEFAULT_ISSUER.into(),
        audience: DEFAULT_AUDIENCE.into(),
    }
}

/// Kafka settings of an in-process service (its relay is off: nothing is published).
pub(crate) fn in_process_kafka() -> tribe_kit::config::KafkaConfig {
    tribe_kit::config::KafkaConfig {
        brokers: "127.0.0.1:9092".into(),
        topic_suffix: format!(".bench-{}", uuid::Uuid::new_v4().simple()),
    }
}

/// Expands group names, keeps the catalogue order, and always puts the baseline first.
pub fn resolve(names: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let mut wanted: Vec<&str> = Vec::new();
    let names: Vec<&str> = if names.is_empty() {
        vec!["all"]
    } else {
        names.iter().map(String::as_str).collect()
    };
    for name in names {
        if let Some((_, members)) = GROUPS.iter().find(|(g, _)| *g == name) {
            if members.is_empty() {
                wanted.extend(SCENARIOS.iter().map(|(s, _)| *s));
            } else {
                wanted.extend(members.iter().copied());
            }
        } else if SCENARIOS.iter().any(|(s, _)| *s == name) {
            wanted.push(name);
        } else {
            let known: Vec<&str> = SCENARIOS
                .iter()
                .map(|(s, _)| *s)
                .chain(GROUPS.iter().map(|(g, _)| *g))
                .collect();
            anyhow::bail!("unknown scenario {name:?}; known: {}", known.join(", "));
        }
    }
    wanted.push(BASELINE);
    Ok(SCENARIOS
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| wanted.contains(s))
        .collect())
}

fn is_fitness(scenario: &str) -> bool {
    matches!(scenario, "log-progress" | "progress-stats")
}

fn is_user(scenario: &str) -> bool {
    !scenario.starts_with("echo-") && !is_fitness(scenario)
}

fn via_envoy(scenario: &str) -> bool {
    scenario.contains("envoy")
}

/// Runs the scenarios and returns the report (also printed, and written where asked).
pub async fn run(options: BenchOptions) -> anyhow::Result<Report> {
    let scenarios = resolve(&options.scenarios)?;
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let load_label = match options.mode {
        Mode::Closed { concurrency } => format!("closed(c={concurrency})"),
        Mode::Open { rate } => format!("open(r={rate:.0}/s)"),
    };
    let concurrency = match options.mode {
        Mode::Closed { concurrency } => concurrency,
        Mode::Open { .. } => 32,
    };

    ui::step("bench: starting the baselines");
    let dir = tempfile::tempdir()?;
    let issuer = Arc::new(KeyPair::generate("")?);
    let token = TokenSigner::new(issuer.clone(), DEFAULT_ISSUER)
        .access_token(
            DEFAULT_AUDIENCE,
            &uuid::Uuid::now_v7().to_string(),
            vec!["user".into()],
            "free",
            "bench",
            Duration::from_secs(3600),
        )
        .map_err(|e| anyhow::anyhow!("mint the bench token: {e:?}"))?
        .0;
    let bare = echo::spawn_bare().await?;
    let kit = echo::spawn_kit(&issuer).await?;
    ui::ok(format!(
        "bare echo on {}, kit echo on {}",
        bare.addr, kit.addr
    ));

    let user_env = if scenarios.iter().any(|s| is_user(s)) {
        ui::step("bench: user service");
        let env =
            user::UserEnv::prepare(&options.user, &issuer, dir.path(), concurrency.clamp(1, 32))
                .await?;
        ui::ok(format!(
            "user service at {} with {} seeded users, {} sessions",
            env.url,
            env.ids.len(),
            env.sessions.len()
        ));
        Some(env)
    } else {
        None
    };

    let fitness_env = if scenarios.iter().any(|s| is_fitness(s)) {
        ui::step("bench: fitness service");
        Some(
            fitness::FitnessEnv::prepare(
                &options.postgres_url,
                options.fitness_history,
                &issuer,
                dir.path(),
            )
            .await?,
        )
    } else {
        None
    };

    let mut envoy = None;
    if scenarios.iter().any(|s| via_envoy(s)) {
        ui::step("bench: starting Envoy");
        let mut upstreams = vec![Upstream {
            cluster: "bench".into(),
            service: echo::ECHO_SERVICE.into(),
            addr: bare.addr,
            anonymous_methods: vec![],
            internal_methods: vec![],
            streaming_methods: vec![],
        }];
        if let (Some(env), UserTarget::InProcess { .. }) = (&user_env, &options.user) {
            let addr = env
                .url
                .trim_start_matches("http://")
                .parse()
                .context("user service address")?;
            let spec =
                crate::services::ServiceSpec::by_name("user").context("user service spec")?;
            upstreams.extend(spec.upstream(addr));
        }
        std::fs::write(
            dir.path().join("edge-jwks.json"),
            KeySet::from_jwks(vec![issuer.jwk().clone()])?.to_json(),
        )?;
        let mut params = EnvoyParams::new(
            free_addr()?,
            free_addr()?,
            dir.path().join("edge-jwks.json"),
            upstreams,
        );
        // The edge's abuse limits would cap the measurement, not the stack.
        params.global_rps = 10_000_000;
        params.auth_rpm = 100_000_000;
        let binary = crate::envoy::envoy_binary();
        anyhow::ensure!(
            binary.is_file(),
            "envoy binary missing at {} (run mesh/setup.sh envoy)",
            binary.display()
        );
        let process = EnvoyProcess::start(&binary, &params, &dir.path().join("envoy")).await?;
        ui::ok(format!("envoy on {}", process.listen_addr()));
        envoy = Some(process);
    }
    let own_edge = envoy
        .as_ref()
        .map(|e| format!("http://{}", e.listen_addr()));

    ui::step(format!(
        "bench: {} scenarios, {load_label}, warm-up {:?}, {:?} each",
        scenarios.len(),
        options.warmup,
        options.duration
    ));
    let load = LoadOptions {
        mode: options.mode,
        warmup: options.warmup,
        duration: options.duration,
        progress: options.progress,
    };
    let payload = vec![0x5a_u8; options.payload];
    let mut results = Vec::new();
    for scenario in &scenarios {
        let call: CallFn = match *scenario {
            "echo-bare" => echo_call(
                clients::channels(&bare.url(), options.connections).await?,
                payload.clone(),
                None,
            ),
            "echo-kit" => echo_call(
                clients::channels(&kit.url(), options.connections).await?,
                payload.clone(),
                Some(token.clone()),
            ),
            "echo-envoy" => {
                let edge = own_edge.as_deref().context("no edge")?;
                echo_call(
                    clients::channels(edge, options.connections).await?,
                    payload.clone(),
                    Some(token.clone()),
                )
            }
            "echo-envoy-web" => {
                let web = clients::GrpcWeb::new(
                    own_edge.as_deref().context("no edge")?,
                    options.connections,
                )?;
                let (payload, token) = (payload.clone(), token.clone());
                Arc::new(move |_| {
                    let (web, request, token) = (
                        web.clone(),
                        EchoRequest {
                            payload: payload.clone(),
                        },
                        token.clone(),
                    );
                    async move {
                        web.call(
                            "/trainertribe.bench.v1.EchoService/Echo",
                            &request,
                            Some(&token),
                        )
                        .await
                    }
                    .boxed()
                })
            }
            fitness_scenario if is_fitness(fitness_scenario) => {
                let env = fitness_env
                    .as_ref()
                    .context("fitness service not prepared")?;
                env.call(
                    fitness_scenario,
                    clients::channels(&env.url, options.connections).await?,
                )?
            }
            user_scenario => {
                let env = user_env.as_ref().context("user service not prepared")?;
                let url = if via_envoy(user_scenario) {
                    match (&options.user, &options.edge) {
                        (UserTarget::Running { .. }, Some(edge)) => edge.clone(),
                        (UserTarget::Running { .. }, None) => "http://127.0.0.1:8080".to_string(),
                        _ => own_edge.clone().context("no edge")?,
                    }
                } else {
                    env.url.clone()
                };
                env.call(
                    user_scenario.trim_end_matches("-envoy"),
                    clients::channels(&url, options.connections).await?,
                )?
            }
        };
        let measured = load::run(scenario, call, load).await;
        let result = ScenarioResult::from_measured(scenario, load_label.clone(), &measured);
        ui::detail(format!(
            "{:<20} {:>9.0} req/s  p50 {:>8}  p99 {:>8}  errors {}",
            scenario,
            result.rps,
            report::fmt_us(result.p50_us),
            report::fmt_us(result.p99_us),
            result.error_count()
        ));
        results.push(result);
    }

    let mut notes = Vec::new();
    let mut argon2_verify_ms = None;
    if scenarios.iter().any(|s| s.starts_with("login")) {
        let ms = user::argon2_verify_ms().await?;
        argon2_verify_ms = Some(ms);
        notes.push(format!(
            "login: argon2id verify costs {ms:.1} ms of one core per call (intentional), so login tops out near {:.0}/s on {cores} cores whatever the stack does",
            cores as f64 * 1000.0 / ms.max(0.001)
        ));
    }
    if matches!(options.user, UserTarget::Running { .. })
        && scenarios.iter().any(|s| is_user(s) && via_envoy(s))
    {
        notes.push("user scenarios through `tribe up`'s edge are subject to its rate limits (RESOURCE_EXHAUSTED)".into());
    }

    ui::step("bench: stopping");
    if let Some(envoy) = envoy {
        envoy.stop().await;
    }
    if let Some(env) = user_env {
        env.shutdown().await;
    }
    if let Some(env) = fitness_env {
        env.shutdown().await;
    }
    bare.stop().await;
    kit.stop().await;

    let mut report = Report {
        started_at,
        host_cores: cores,
        baseline: BASELINE.into(),
        results,
        notes,
        argon2_verify_ms,
    };
    report.compute_ratios();
    println!();
    print!("{}", report.table());
    if let Some(path) = &options.json {
        report.write_json(path)?;
        ui::ok(format!("results written to {}", path.display()));
    }
    if let Some(path) = &options.plot {
        report.write_svg(path)?;
        ui::ok(format!("latency histogram written to {}", path.display()));
    }
    Ok(report)
}

fn echo_call(
    channels: Vec<tonic::transport::Channel>,
    payload: Vec<u8>,
    token: Option<String>,
) -> CallFn {
    let clients: Arc<Vec<EchoServiceClient<tonic::transport::Channel>>> =
        Arc::new(channels.into_iter().map(EchoServiceClient::new).collect());
    Arc::new(move |n| {
        let mut client = clients[n as usize % clients.len()].clone();
        let request = clients::request(
            EchoRequest {
                payload: payload.clone(),
            },
            token.as_deref(),
        );
        async move { client.echo(request).await.map(drop).map_err(|s| s.code()) }.boxed()
    })
}

fn free_addr() -> anyhow::Result<std::net::SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
