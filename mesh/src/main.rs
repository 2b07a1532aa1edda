//! `tribe`: the local TrainerTribe mesh launcher (`up`, `migrate`, `status`, `seed`, `bench`).

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tribe_mesh::services::Workspace;
use tribe_mesh::{bench, envoy, migrate, seed, status, ui, up, workspace_root};

#[derive(Debug, Parser)]
#[command(
    name = "tribe",
    about = "Run the TrainerTribe mesh on this machine",
    version
)]
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
    /// Fill the user database with a synthetic social graph (replaces earlier seed data).
    Seed(SeedArgs),
    /// Load scenarios, each reported as a ratio to a bare tonic echo measured in the same run.
    Bench(Box<BenchArgs>),
    /// Give an account a role (admin, support_agent, trainer): how the first admin is made.
    GrantRole(RoleArgs),
    /// Take a role away from an account.
    RevokeRole(RoleArgs),
}

#[derive(Debug, Args)]
struct RoleArgs {
    /// The account's email address.
    email: String,
    /// admin, support_agent or trainer.
    role: String,
    /// The user service's database.
    #[arg(
        long,
        env = "TRIBE_USER_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/tribe_user"
    )]
    database_url: String,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// Number of seeded accounts (seed_<n>@bench.trainertribe.dev).
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Average number of accounts each seeded user follows.
    #[arg(long, default_value_t = 20)]
    avg_follows: usize,
    /// The user service's database.
    #[arg(
        long,
        env = "TRIBE_USER_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/tribe_user"
    )]
    database_url: String,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Scenarios or groups (all, baselines, user); default all. `echo-bare` always runs:
    /// it is the baseline of every ratio.
    scenarios: Vec<String>,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// Measured time per scenario, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: std::time::Duration,
    /// Unrecorded warm-up before each scenario.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    warmup: std::time::Duration,
    /// Closed loop: this many callers, each sending when its previous call returned.
    #[arg(long, short = 'c', default_value_t = 32)]
    concurrency: usize,
    /// Open loop instead: this many calls per second on a fixed schedule; latency counts
    /// from the intended send time.
    #[arg(long, short = 'r')]
    rate: Option<f64>,
    /// HTTP/2 connections per target.
    #[arg(long, default_value_t = 2)]
    connections: usize,
    /// Echo payload bytes.
    #[arg(long, default_value_t = 64)]
    payload: usize,
    /// Users to seed for the in-process user service.
    #[arg(long, default_value_t = 10_000)]
    users: usize,
    /// Average follows per seeded user.
    #[arg(long, default_value_t = 20)]
    avg_follows: usize,
    /// A running user service (`tribe up`, seeded with `tribe seed`) instead of one started here.
    #[arg(long)]
    target: Option<String>,
    /// With --target: the edge for the *-envoy user scenarios.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    edge: String,
    /// With --target: its database (to find the seeded accounts).
    #[arg(
        long,
        env = "TRIBE_USER_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/tribe_user"
    )]
    database_url: String,
    /// The PostgreSQL server on which the in-process run creates (and drops) its database.
    #[arg(
        long,
        env = "TRIBE_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Sessions logged per bench user before the fitness scenarios run.
    #[arg(long, default_value_t = 120)]
    fitness_history: usize,
    /// Write the results as JSON.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
    /// Write a latency histogram (SVG).
    #[arg(long)]
    plot: Option<std::path::PathBuf>,
}

fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    tribe_kit::config::parse_duration(raw).map_err(|e| e.to_string())
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
    /// Also start the CQL server (Apache Cassandra) and run content and messaging on their
    /// CQL stores instead of PostgreSQL.
    #[arg(long)]
    cql: bool,
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
                cql: args.cql,
            };
            Ok(up::run(&root, options).await)
        }
        Command::Migrate => match Workspace::load(&root) {
            Ok(ws) => migrate::run(&root, &migrate::services_to_migrate(&ws))
                .await
                .map(|_| true),
            Err(err) => Err(err),
        },
        Command::Status(ports) => status::run(&root, ports.edge_port, ports.admin_port).await,
        Command::EdgeConfig(ports) => edge_config(&root, &ports),
        Command::Seed(args) => run_seed(args).await,
        Command::Bench(args) => run_bench(*args).await,
        Command::GrantRole(args) => set_role(args, true).await,
        Command::RevokeRole(args) => set_role(args, false).await,
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
    let upstreams = workspace
        .present()
        .iter()
        .filter_map(|s| s.upstream(s.listen_addr()))
        .collect();
    let params = envoy::EnvoyParams::new(
        ([127, 0, 0, 1], ports.edge_port).into(),
        ([127, 0, 0, 1], ports.admin_port).into(),
        state.keys().join("edge-jwks.json"),
        upstreams,
    );
    println!("{}", envoy::render(&params));
    Ok(true)
}

async fn set_role(args: RoleArgs, grant: bool) -> anyhow::Result<bool> {
    let pool = tribe_kit::db::connect(&args.database_url, 1).await?;
    let roles = tribe_mesh::roles::set_role(&pool, &args.email, &args.role, grant).await?;
    ui::ok(format!(
        "{}: roles {} (effective from the next sign-in or token refresh)",
        args.email,
        roles.join(", ")
    ));
    Ok(true)
}

async fn run_seed(args: SeedArgs) -> anyhow::Result<bool> {
    ui::step(format!(
        "seed: {} users, ~{} follows each, into {}",
        args.users,
        args.avg_follows,
        tribe_kit::db::redact(&args.database_url)
    ));
    let pool = tribe_kit::db::connect(&args.database_url, 4).await?;
    tribe_kit::db::migrate(&pool, &tribe_user::MIGRATOR).await?;
    let options = seed::SeedOptions {
        users: args.users,
        avg_follows: args.avg_follows,
        progress: true,
    };
    let seeded = seed::seed(&pool, options).await?;
    ui::ok(format!(
        "{} users and {} follows in {:.1}s",
        seeded.users,
        seeded.follows,
        seeded.elapsed.as_secs_f64()
    ));
    ui::detail(format!(
        "every seeded account signs in as seed_<n>@bench.trainertribe.dev with password {}",
        seed::SEED_PASSWORD
    ));
    Ok(true)
}

async fn run_bench(args: BenchArgs) -> anyhow::Result<bool> {
    if args.list {
        for (name, what) in bench::SCENARIOS {
            println!("{name:<22} {what}");
        }
        for (name, members) in bench::GROUPS {
            println!(
                "{name:<22} {}",
                if members.is_empty() {
                    "every scenario".to_string()
                } else {
                    members.join(", ")
                }
            );
        }
        return Ok(true);
    }
    let mode = match args.rate {
        Some(rate) => {
            anyhow::ensure!(rate > 0.0, "--rate must be positive");
            bench::load::Mode::Open { rate }
        }
        None => bench::load::Mode::Closed {
            concurrency: args.concurrency.max(1),
        },
    };
    let user = match args.target {
        Some(url) => bench::UserTarget::Running {
            url,
            database_url: args.database_url,
        },
        None => bench::UserTarget::InProcess {
            database_url: None,
            postgres_url: args.postgres_url.clone(),
            users: args.users,
            avg_follows: args.avg_follows,
        },
    };
    let options = bench::BenchOptions {
        scenarios: args.scenarios,
        mode,
        warmup: args.warmup,
        duration: args.duration,
        connections: args.connections.max(1),
        payload: args.payload,
        user,
        postgres_url: args.postgres_url,
        fitness_history: args.fitness_history,
        edge: Some(args.edge),
        json: args.json,
        plot: args.plot,
        progress: true,
    };
    let report = bench::run(options).await?;
    Ok(report.results.iter().all(|r| r.error_count() == 0))
}
