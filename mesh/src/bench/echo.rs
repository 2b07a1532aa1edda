//! The baseline echo servers: bare tonic (no middleware) and the same echo behind the full
//! kit stack (gRPC-Web layer, load shed, concurrency limit, JWT auth, timeouts, health,
//! reflection), both in this process on free ports.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tribe_kit::auth::{AuthLayer, KeyPair, KeySet, MethodPolicies, Policy, TokenVerifier};
use tribe_kit::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER, ServerConfig};
use tribe_proto::bench::v1::echo_service_server::{EchoService, EchoServiceServer};
use tribe_proto::bench::v1::{EchoRequest, EchoResponse};

/// Fully qualified name of the echo service (also its health-check name at the edge).
pub const ECHO_SERVICE: &str = "trainertribe.bench.v1.EchoService";

#[derive(Debug, Default, Clone, Copy)]
struct Echo;

#[tonic::async_trait]
impl EchoService for Echo {
    async fn echo(
        &self,
        request: tonic::Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoResponse>, tonic::Status> {
        Ok(tonic::Response::new(EchoResponse {
            payload: request.into_inner().payload,
        }))
    }
}

/// A server task on a free port, stopped when dropped.
#[derive(Debug)]
pub struct Spawned {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Spawned {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Binds 127.0.0.1:0 and runs `serve(listener, shutdown)` as a task.
pub async fn spawn<F, Fut>(serve: F) -> anyhow::Result<Spawned>
where
    F: FnOnce(TcpListener, futures::future::BoxFuture<'static, ()>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = Box::pin(async move {
        let _ = stopped.await;
    });
    let task = tokio::spawn(serve(listener, shutdown));
    Ok(Spawned {
        addr,
        stop: Some(stop),
        task,
    })
}

/// Bare tonic: the echo plus `grpc.health.v1` (a separate route, so Envoy's active health
/// check passes), no layers at all. This is the physical limit every ratio refers to.
pub async fn spawn_bare() -> anyhow::Result<Spawned> {
    spawn(|listener, shutdown| async move {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status(ECHO_SERVICE, tonic_health::ServingStatus::Serving)
            .await;
        tonic::transport::Server::builder()
            .add_service(EchoServiceServer::new(Echo))
            .add_service(health)
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
            .await?;
        Ok(())
    })
    .await
}

/// The echo behind `tribe_kit::server::serve` with an auth layer (Echo = any user) that
/// trusts `issuer`'s key; callers need a token signed by it.
pub async fn spawn_kit(issuer: &KeyPair) -> anyhow::Result<Spawned> {
    let keys = Arc::new(KeySet::from_jwks(vec![issuer.jwk().clone()])?);
    let auth = AuthLayer::new(
        TokenVerifier::new(keys, DEFAULT_ISSUER, DEFAULT_AUDIENCE),
        MethodPolicies::new().with(ECHO_SERVICE, "Echo", Policy::AnyUser),
    );
    let mut config = ServerConfig::for_tests();
    config.drain_delay = std::time::Duration::ZERO;
    config.drain_timeout = std::time::Duration::from_secs(2);
    spawn(move |listener, shutdown| async move {
        let routes = tonic::service::Routes::new(EchoServiceServer::new(Echo));
        tribe_kit::server::serve(&config, auth, routes, &[ECHO_SERVICE], listener, shutdown).await
    })
    .await
}
