//! Building, starting, health-waiting and stopping the service binaries of `tribe up`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::process::{Child, Command};
use tonic_health::pb::health_check_response::ServingStatus;

use crate::health;
use crate::procs::{self, PidFile};
use crate::services::{ServiceSpec, Workspace};
use crate::state::{Keys, State};
use crate::ui;

/// How long a service may take to report SERVING (it migrates its database first).
const HEALTHY_TIMEOUT: Duration = Duration::from_secs(60);
/// Drain delay plus in-flight calls (kit defaults: 2s + up to 20s), with a margin.
const STOP_GRACE: Duration = Duration::from_secs(25);

/// A started service.
#[derive(Debug)]
pub struct RunningService {
    pub spec: &'static ServiceSpec,
    pub addr: SocketAddr,
    pub log: PathBuf,
    child: Child,
    pid_file: PidFile,
}

/// `cargo build [--release] --workspace --bins`, output shown as it goes. Building every
/// binary at once, exactly as `mesh/tribe` builds the launcher, keeps one feature
/// resolution, so dependencies are compiled once rather than once per package set.
pub async fn build(
    workspace: &Workspace,
    specs: &[&'static ServiceSpec],
    release: bool,
) -> anyhow::Result<()> {
    let profile = if release { "release" } else { "debug" };
    ui::step(format!(
        "building {} ({profile})",
        specs
            .iter()
            .map(|s| s.package)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(&workspace.root).arg("build");
    if release {
        command.arg("--release");
    }
    command.args(["--workspace", "--bins"]);
    let started = Instant::now();
    let status = command.status().await.context("run cargo build")?;
    anyhow::ensure!(status.success(), "cargo build failed ({status})");
    ui::ok(format!("built in {:.0?}", started.elapsed()));
    Ok(())
}

/// Where the engines the services share listen.
#[derive(Debug, Clone)]
pub struct Engines {
    pub kafka_brokers: String,
    /// The CQL server, when the services with a CQL store should use it.
    pub cql_nodes: Option<String>,
}

/// The environment a service is started with.
pub fn service_env(spec: &ServiceSpec, keys: &Keys, engines: &Engines) -> Vec<(String, String)> {
    let prefix = spec.env_prefix;
    let path = |p: &std::path::Path| p.display().to_string();
    let mut env = vec![
        (
            format!("{prefix}_LISTEN_ADDR"),
            spec.listen_addr().to_string(),
        ),
        ("TRIBE_JWKS_FILE".into(), path(&keys.jwks)),
        ("TRIBE_KAFKA_BROKERS".into(), engines.kafka_brokers.clone()),
        (
            "TRIBE_REDIS_URL".into(),
            tribe_kit::config::var("TRIBE_REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
        ),
        (
            "TRIBE_PAGE_TOKEN_SECRET".into(),
            keys.page_token_secret.clone(),
        ),
    ];
    if let Some(url) = crate::migrate::database_url(spec) {
        env.push((format!("{prefix}_DATABASE_URL"), url));
    }
    if let Some(key) = keys.service_key(spec) {
        env.push(("TRIBE_SERVICE_KEY_FILE".into(), path(key)));
    }
    if let (true, Some(nodes)) = (spec.cql_store, &engines.cql_nodes) {
        env.push(("TRIBE_SCYLLA_NODES".into(), nodes.clone()));
        // The local CQL server is one node.
        env.push((format!("{prefix}_SCYLLA_REPLICATION"), "1".into()));
    }
    if spec.issues_user_tokens {
        env.push((
            "TRIBE_USER_SIGNING_KEY_FILE".into(),
            path(&keys.user_signing_key),
        ));
    }
    // Where the services it calls listen: TRIBE_<SVC>_<DEPENDENCY>_URL.
    for dependency in spec
        .calls
        .iter()
        .filter_map(|name| ServiceSpec::by_name(name))
    {
        env.push((
            format!("{prefix}_{}_URL", dependency.name.to_uppercase()),
            format!("http://{}", dependency.listen_addr()),
        ));
    }
    env.extend(
        spec.local_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if std::env::var_os("RUST_LOG").is_none() {
        env.push(("RUST_LOG".into(), "info".into()));
    }
    env
}

/// Starts one service binary with its environment, logging to `.tribe/logs/<name>.log`.
pub async fn start(
    workspace: &Workspace,
    state: &State,
    spec: &'static ServiceSpec,
    keys: &Keys,
    engines: &Engines,
    release: bool,
) -> anyhow::Result<RunningService> {
    let binary = workspace.binary(spec, release);
    anyhow::ensure!(
        binary.is_file(),
        "{} is not built (run without --no-build)",
        binary.display()
    );
    let addr = spec.listen_addr();
    anyhow::ensure!(
        !health::tcp_open(addr).await,
        "{addr} is already in use; is another mesh running? (tribe status)"
    );
    let log = state.log_file(spec.name);
    let mut command = Command::new(&binary);
    command
        .current_dir(&workspace.root)
        .envs(service_env(spec, keys, engines));
    let child = procs::spawn_logged(command, &log)
        .with_context(|| format!("start {}", binary.display()))?;
    let pid = child.id().unwrap_or_default();
    let pid_file = PidFile::write(state.pid_file(spec.name), pid, &binary)?;
    ui::ok(format!(
        "{} started (pid {pid}, {addr}, log {})",
        spec.name,
        log.display()
    ));
    Ok(RunningService {
        spec,
        addr,
        log,
        child,
        pid_file,
    })
}

impl RunningService {
    /// Waits until the service reports SERVING for its gRPC service name.
    pub async fn wait_serving(&mut self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let mut last = String::from("no answer yet");
        while started.elapsed() < HEALTHY_TIMEOUT {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} exited ({status}) before becoming healthy; last log lines:\n{}",
                    self.spec.name,
                    procs::tail(&self.log, 15)
                );
            }
            match health::grpc_health(self.addr, self.spec.grpc_service).await {
                Ok(ServingStatus::Serving) => return Ok(started.elapsed()),
                Ok(other) => last = format!("{other:?}"),
                Err(err) => last = format!("{err:#}"),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        anyhow::bail!(
            "{} not SERVING after {HEALTHY_TIMEOUT:?} (last: {last}); see {}",
            self.spec.name,
            self.log.display()
        )
    }

    /// The exit status if the process has ended.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, wait for the drain, SIGKILL if it takes too long.
    pub async fn stop(mut self) {
        let status = procs::terminate(&mut self.child, STOP_GRACE).await;
        self.pid_file.remove();
        match status {
            Some(s) => ui::ok(format!("{} stopped ({s})", self.spec.name)),
            None => ui::note(format!("{} did not report an exit status", self.spec.name)),
        }
    }
}
