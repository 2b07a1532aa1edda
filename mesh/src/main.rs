//! `tribe`: the local TrainerTribe mesh launcher (`up`, `migrate`, `status`).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tribe_mesh::services::Workspace;
use tribe_mesh::{envoy, migrate, status, ui, up, workspace_root};

#[derive(Debug, Parser)]
#[command(name = "tribe", about = "Run the TrainerTribe mesh on this machine", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Keys, databases, broker, every built service and the Envoy edge; Ctrl-C stops all.
    Up(UpArgs),
    /// Create missing databases and apply migrations.
    Migrate,
    /// Check each component and print a table (exit code 1 if something is down).
    Status(Ports),
    /// Print the Envoy bootstrap `up` would use for the services in this workspace.
    EdgeConfig(Ports),
}

#[derive(Debug, Args)]
struct UpArgs {
    /// Start the service binaries as they are, without `cargo build`.
    #[arg(long)]
    no_build: bool,
    /// Build and run release binaries (the default).
    #[arg(long, overrides_with = "debug")]
    release: bool,
    /// Build and run debug binaries.
    #[arg(long, overrides_with = "release")]
    debug: bool,
    #[command(flatten)]
    ports: Ports,
}

#[derive(Debug, Args)]
struct Ports {
    /// Public edge port (gRPC and gRPC-Web).
    #[arg(long, env = "TRIBE_EDGE_PORT", default_value_t = 8080)]
    edge_port: u16,
    /// Envoy admin port (bound to 127.0.0.1 only).
    #[arg(long, env = "TRIBE_ADMIN_PORT", default_value_t = 9901)]
    admin_port: u16,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = workspace_root();
    let result = match cli.command {
        Command::Up(args) => {
            let options = up::UpOptions {
                build: !args.no_build,
                release: !args.debug,
                edge_port: args.ports.edge_port,
                admin_port: args.ports.admin_port,
            };
            Ok(up::run(&root, options).await)
        }
        Command::Migrate => match Workspace::load(&root) {
            Ok(ws) => migrate::run(&root, &migrate::services_to_migrate(&ws)).await.map(|_| true),
            Err(err) => Err(err),
        },
        Command::Status(ports) => status::run(&root, ports.edge_port, ports.admin_port).await,
        Command::EdgeConfig(ports) => edge_config(&root, &ports),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            ui::fail(format!("{err:#}"));
            ExitCode::FAILURE
        }
    }
}

fn edge_config(root: &std::path::Path, ports: &Ports) -> anyhow::Result<bool> {
    let workspace = Workspace::load(root)?;
    let state = tribe_mesh::state::State::locate(root);
    let upstreams = workspace.present().iter().map(|s| s.upstream(s.listen_addr())).collect();
    let params = envoy::EnvoyParams::new(
        ([127, 0, 0, 1], ports.edge_port).into(),
        ([127, 0, 0, 1], ports.admin_port).into(),
        state.keys().join("edge-jwks.json"),
        upstreams,
    );
    println!("{}", envoy::render(&params));
    Ok(true)
}
