//! `tribe up`: state and keys, databases, Kafka (and the CQL server with `--cql`), services, Envoy, in that order; waits
//! for health, prints the endpoints, and on Ctrl-C / SIGTERM stops everything in
//! reverse order.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::engines::Engine;
use crate::envoy::{EnvoyParams, EnvoyProcess, envoy_binary};
use crate::procs::PidFile;
use crate::services::{SERVICES, Workspace};
use crate::services_run::{self, Engines, RunningService};
use crate::state::{Keys, State, ensure_keys};
use crate::{migrate, procs, ui};

/// Options of `tribe up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Build the service binaries first.
    pub build: bool,
    pub release: bool,
    /// Public edge port ($TRIBE_EDGE_PORT, default 8080).
    pub edge_port: u16,
    /// Envoy admin port ($TRIBE_ADMIN_PORT, default 9901).
    pub admin_port: u16,
    /// Start the CQL server and run content and messaging on their CQL stores.
    pub cql: bool,
}

/// What is running, so it can be stopped in reverse order whatever happened.
#[derive(Debug, Default)]
struct Mesh {
    kafka: Option<Engine>,
    cql: Option<Engine>,
    services: Vec<RunningService>,
    envoy: Option<(EnvoyProcess, PidFile)>,
}

impl Mesh {
    async fn shutdown(mut self) {
        ui::step("stopping the mesh");
        if let Some((envoy, pid_file)) = self.envoy.take() {
            envoy.stop().await;
            pid_file.remove();
            ui::ok("envoy stopped");
        }
        while let Some(service) = self.services.pop() {
            service.stop().await;
        }
        for engine in [self.cql.take(), self.kafka.take()].into_iter().flatten() {
            engine.stop().await;
        }
    }

    /// Resolves when a child the launcher started exits by itself.
    async fn first_exit(&mut self) -> String {
        loop {
            if let Some(status) = self.envoy.as_mut().and_then(|(e, _)| e.try_exit_status()) {
                return format!("envoy exited ({status}); see its log in .tribe/envoy/envoy.log");
            }
            for service in &mut self.services {
                if let Some(status) = service.exited() {
                    return format!(
                        "{} exited ({status}):\n{}",
                        service.spec.name,
                        procs::tail(&service.log, 15)
                    );
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Runs the mesh until interrupted. Returns false (after reporting why) if it could not
/// start or a component died.
pub async fn run(root: &Path, options: UpOptions) -> bool {
    let mut mesh = Mesh::default();
    let started = tokio::select! {
        result = start(root, &options, &mut mesh) => result,
        _ = tribe_kit::server::shutdown_signal() => Err(anyhow::anyhow!("interrupted during start-up")),
    };
    if let Err(err) = started {
        ui::fail(format!("{err:#}"));
        mesh.shutdown().await;
        return false;
    }
    let healthy = tokio::select! {
        _ = tribe_kit::server::shutdown_signal() => true,
        reason = mesh.first_exit() => {
            ui::fail(reason);
            false
        }
    };
    mesh.shutdown().await;
    healthy
}

async fn start(root: &Path, options: &UpOptions, mesh: &mut Mesh) -> anyhow::Result<()> {
    let state = State::locate(root);
    ui::step(format!("state directory {}", state.root.display()));
    state.ensure()?;
    for name in ["envoy"]
        .into_iter()
        .chain(SERVICES.iter().map(|s| s.name))
        .chain(["cql", "kafka"])
    {
        if let Some(pid) =
            procs::stop_leftover(&state.pid_file(name), Duration::from_secs(25)).await
        {
            ui::note(format!(
                "stopped {name} (pid {pid}) left over from an earlier run"
            ));
        }
    }
    ui::ok("keys, logs, engine data, envoy config, pid files");

    ui::step("signing keys and JWKS");
    let (keys, created) = ensure_keys(&state)?;
    if created.is_empty() {
        ui::ok(format!("reusing the keys in {}", state.keys().display()));
    } else {
        ui::ok(format!("generated {}", created.join(", ")));
    }
    ui::ok(format!(
        "JWKS for services {}, for the edge {}",
        keys.jwks.display(),
        keys.edge_jwks.display()
    ));

    ui::step("services in this workspace");
    let workspace = Workspace::load(root)?;
    let present = workspace.present();
    for spec in SERVICES {
        if workspace.has(spec) {
            ui::ok(format!("{} ({})", spec.name, spec.package));
        } else {
            ui::note(format!(
                "skipping {}: package {} is not in the workspace yet",
                spec.name, spec.package
            ));
        }
    }

    migrate::run(root, &migrate::services_to_migrate(&workspace)).await?;
    let kafka = Engine::kafka(root, &state).await?;
    let mut engines = Engines {
        kafka_brokers: kafka.addr.to_string(),
        cql_nodes: None,
    };
    mesh.kafka = Some(kafka);
    if options.cql {
        let cql = Engine::cql(root, &state).await?;
        engines.cql_nodes = Some(cql.addr.to_string());
        mesh.cql = Some(cql);
    }

    if !present.is_empty() && options.build {
        services_run::build(&workspace, &present, options.release).await?;
    }
    start_services(&workspace, &state, &keys, &engines, options, mesh).await?;
    start_envoy(&state, &keys, options, mesh).await?;
    print_endpoints(&state, mesh, options);
    Ok(())
}

async fn start_services(
    workspace: &Workspace,
    state: &State,
    keys: &Keys,
    engines: &Engines,
    options: &UpOptions,
    mesh: &mut Mesh,
) -> anyhow::Result<()> {
    let present = workspace.present();
    if present.is_empty() {
        return Ok(());
    }
    ui::step("starting services");
    for spec in present {
        let service =
            services_run::start(workspace, state, spec, keys, engines, options.release).await?;
        mesh.services.push(service);
    }
    ui::step("waiting for grpc.health.v1 SERVING");
    for service in &mut mesh.services {
        let took = service.wait_serving().await?;
        ui::ok(format!(
            "{} SERVING on {} after {:.1}s",
            service.spec.grpc_service,
            service.addr,
            took.as_secs_f32()
        ));
    }
    Ok(())
}

fn edge_params(keys: &Keys, options: &UpOptions, mesh: &Mesh) -> anyhow::Result<EnvoyParams> {
    let upstreams = mesh
        .services
        .iter()
        .filter_map(|s| s.spec.upstream(s.addr))
        .collect();
    let mut params = EnvoyParams::new(
        SocketAddr::from(([127, 0, 0, 1], options.edge_port)),
        SocketAddr::from(([127, 0, 0, 1], options.admin_port)),
        keys.edge_jwks.clone(),
        upstreams,
    );
    if let Some(origins) = tribe_kit::config::var("TRIBE_CORS_ORIGINS") {
        params.cors_origins = origins
            .split(',')
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
    }
    params.global_rps = tribe_kit::config::parse_or("TRIBE_EDGE_RPS", params.global_rps)?;
    params.auth_rpm = tribe_kit::config::parse_or("TRIBE_EDGE_AUTH_RPM", params.auth_rpm)?;
    Ok(params)
}

async fn start_envoy(
    state: &State,
    keys: &Keys,
    options: &UpOptions,
    mesh: &mut Mesh,
) -> anyhow::Result<()> {
    let params = edge_params(keys, options, mesh)?;
    ui::step(format!(
        "envoy edge on {} (admin {})",
        params.listen, params.admin
    ));
    for addr in [params.listen, params.admin] {
        anyhow::ensure!(
            !crate::health::tcp_open(addr).await,
            "{addr} is already in use; is another mesh running? (tribe status)"
        );
    }
    let binary = envoy_binary();
    anyhow::ensure!(
        binary.is_file(),
        "envoy not found at {} (run mesh/setup.sh envoy)",
        binary.display()
    );
    let envoy = EnvoyProcess::start(&binary, &params, &state.envoy())
        .await
        .context("start envoy")?;
    ui::ok(format!(
        "admin /ready: LIVE (pid {}, config {}, log {})",
        envoy.pid().unwrap_or_default(),
        state.envoy().join("envoy.yaml").display(),
        state.envoy().join("envoy.log").display()
    ));
    let pid_file = PidFile::write(
        state.pid_file("envoy"),
        envoy.pid().unwrap_or_default(),
        &binary,
    )?;
    mesh.envoy = Some((envoy, pid_file));
    Ok(())
}

fn print_endpoints(state: &State, mesh: &Mesh, options: &UpOptions) {
    ui::step("TrainerTribe is up (Ctrl-C stops everything)");
    ui::detail(format!(
        "edge      127.0.0.1:{}  gRPC (h2c) and gRPC-Web (HTTP/1.1, h2c); GET /healthz",
        options.edge_port
    ));
    ui::detail(format!(
        "admin     http://127.0.0.1:{}/ (loopback only)",
        options.admin_port
    ));
    for s in &mesh.services {
        ui::detail(format!(
            "{:<9} {}  direct, with reflection; log {}",
            s.spec.name,
            s.addr,
            s.log.display()
        ));
    }
    for engine in [&mesh.kafka, &mesh.cql].into_iter().flatten() {
        let what = if engine.name == "kafka" {
            "Apache Kafka"
        } else {
            "CQL (content timelines, messages)"
        };
        ui::detail(format!(
            "{:<9} {}  {what}; data {}",
            engine.name, engine.addr, engine.storage
        ));
    }
    ui::detail(format!(
        "postgres  {}   redis 127.0.0.1:6379",
        tribe_kit::db::redact(&migrate::server_url())
    ));
    ui::detail(format!("state     {}", state.root.display()));
    if mesh.services.iter().any(|s| s.spec.name == "user") {
        ui::detail("");
        ui::detail("try (through the edge, over gRPC-Web; buf is installed by setup):");
        ui::detail(format!(
            "  PATH=$PWD/.tools/npm/node_modules/.bin:$PATH buf curl --schema proto --protocol grpcweb --http2-prior-knowledge=false \\\n      \
             -d '{{\"email\":\"ada@example.com\",\"password\":\"lift-heavy-things-42\",\"handle\":\"ada\",\"display_name\":\"Ada\",\"account_type\":\"ACCOUNT_TYPE_MEMBER\"}}' \\\n      \
             http://127.0.0.1:{}/trainertribe.user.v1.UserService/Register",
            options.edge_port
        ));
        ui::detail(
            "  more in README.md (Calling the API); services answer reflection directly on their ports",
        );
    }
}
