//! `tribe status`: is each component of the local mesh up? One table, and a non-zero
//! exit code when something that should run is down.

use std::net::SocketAddr;
use std::path::Path;

use tonic_health::pb::health_check_response::ServingStatus;

use crate::services::{SERVICES, Workspace};
use crate::{engines, health, migrate, ui};

/// One row of the table.
#[derive(Debug)]
struct Row {
    component: String,
    address: String,
    up: Option<bool>,
    detail: String,
}

fn row(component: &str, address: impl ToString, result: anyhow::Result<String>) -> Row {
    let (up, detail) = match result {
        Ok(detail) => (Some(true), detail),
        Err(err) => (Some(false), err.root_cause().to_string()),
    };
    Row {
        component: component.to_string(),
        address: address.to_string(),
        up,
        detail,
    }
}

/// host:port of a redis:// URL.
fn redis_addr() -> anyhow::Result<SocketAddr> {
    let url = tribe_kit::config::var("TRIBE_REDIS_URL")
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(&url);
    let host_port = rest
        .rsplit('@')
        .next()
        .unwrap_or(rest)
        .split('/')
        .next()
        .unwrap_or(rest);
    host_port
        .parse()
        .map_err(|e| anyhow::anyhow!("TRIBE_REDIS_URL {url:?}: {e}"))
}

/// Checks everything and prints the table; returns whether all of it is up.
pub async fn run(root: &Path, edge_port: u16, admin_port: u16) -> anyhow::Result<bool> {
    ui::step("TrainerTribe mesh status");
    let mut rows = Vec::new();

    let pg = migrate::server_url();
    rows.push(row(
        "postgres",
        tribe_kit::db::redact(&pg),
        health::postgres(&pg)
            .await
            .map(|_| "accepting queries".into()),
    ));
    match redis_addr() {
        Ok(addr) => rows.push(row(
            "redis",
            addr,
            health::redis_ping(addr).await.map(|_| "PONG".into()),
        )),
        Err(err) => rows.push(row("redis", "?", Err(err))),
    }
    let kafka = engines::kafka_addr()?;
    let open = health::tcp_open(kafka).await;
    rows.push(row(
        "kafka",
        kafka,
        if open {
            Ok("listening".into())
        } else {
            Err(anyhow::anyhow!("nothing listens"))
        },
    ));
    // The CQL server is optional (`tribe up --cql`): shown when it listens, never "down".
    let cql = engines::cql_addr()?;
    if health::tcp_open(cql).await {
        rows.push(row(
            "cql",
            cql,
            Ok("listening (content and messaging may use it)".into()),
        ));
    }

    let workspace = Workspace::load(root)?;
    for spec in SERVICES {
        let addr = spec.listen_addr();
        if !workspace.has(spec) {
            rows.push(Row {
                component: spec.name.into(),
                address: addr.to_string(),
                up: None,
                detail: "not in this workspace yet".into(),
            });
            continue;
        }
        let result = match health::grpc_health(addr, spec.grpc_service).await {
            Ok(ServingStatus::Serving) => Ok("SERVING".to_string()),
            Ok(other) => Err(anyhow::anyhow!("{other:?}")),
            Err(err) => Err(err),
        };
        rows.push(row(spec.name, addr, result));
    }

    let admin = SocketAddr::from(([127, 0, 0, 1], admin_port));
    let ready = match health::envoy_ready(admin).await {
        Ok(state) if state == "LIVE" => Ok(format!("admin {admin} /ready LIVE")),
        Ok(state) => Err(anyhow::anyhow!("admin {admin} /ready {state}")),
        Err(err) => Err(err),
    };
    rows.push(row("envoy", admin, ready));
    let edge = SocketAddr::from(([127, 0, 0, 1], edge_port));
    rows.push(row(
        "edge",
        edge,
        health::edge_healthz(edge)
            .await
            .map(|_| "GET /healthz 200".into()),
    ));

    println!(
        "    {:<10} {:<38} {:<6} detail",
        "component", "address", "state"
    );
    for r in &rows {
        let state = match r.up {
            Some(true) => "up",
            Some(false) => "DOWN",
            None => "-",
        };
        println!(
            "    {:<10} {:<38} {:<6} {}",
            r.component, r.address, state, r.detail
        );
    }
    Ok(rows.iter().all(|r| r.up != Some(false)))
}
