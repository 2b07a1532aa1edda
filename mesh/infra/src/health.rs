//! Probes: Envoy's admin `/ready`, `grpc.health.v1` of a service, and plain TCP / Redis /
//! PostgreSQL reachability for `tribe status`.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Envoy's server state from admin `/ready` ("LIVE" when serving).
pub async fn envoy_ready(admin: SocketAddr) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(PROBE_TIMEOUT)
        .build()?;
    let response = client.get(format!("http://{admin}/ready")).send().await?;
    Ok(response.text().await?.trim().to_string())
}

/// The edge answers its own `/healthz` with 200.
pub async fn edge_healthz(edge: SocketAddr) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(PROBE_TIMEOUT)
        .build()?;
    let status = client
        .get(format!("http://{edge}{}", crate::envoy::HEALTH_PATH))
        .send()
        .await?
        .status();
    anyhow::ensure!(status.is_success(), "GET /healthz answered {status}");
    Ok(())
}

/// The serving status `addr` reports for `service` ("" = the whole server).
pub async fn grpc_health(addr: SocketAddr, service: &str) -> anyhow::Result<ServingStatus> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(PROBE_TIMEOUT)
        .timeout(PROBE_TIMEOUT)
        .connect()
        .await
        .with_context(|| format!("connect {addr}"))?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
        .map_err(|s| anyhow::anyhow!("{}: {}", s.code(), s.message()))?;
    Ok(response.into_inner().status())
}

/// Whether something accepts TCP connections on `addr`.
pub async fn tcp_open(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

/// Redis answers PING with PONG.
pub async fn redis_ping(addr: SocketAddr) -> anyhow::Result<()> {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await?;
        anyhow::ensure!(
            buf[..n].starts_with(b"+PONG"),
            "unexpected reply {:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        Ok(())
    };
    tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .context("timed out")?
}

/// PostgreSQL accepts a connection and a query at `url`.
pub async fn postgres(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let probe = async {
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        let mut conn = sqlx::PgConnection::connect_with(&options.database("postgres")).await?;
        let _: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await?;
        conn.close().await?;
        anyhow::Ok(())
    };
    tokio::time::timeout(PROBE_TIMEOUT, probe)
        .await
        .context("timed out")?
}
