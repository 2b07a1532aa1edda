//! Servers of one test: a service on a free port, and a real Envoy edge in front of it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::net::TcpListener;
use tonic::transport::{Channel, Endpoint};

/// A server spawned on a free port; shuts down gracefully on [`TestServer::shutdown`].
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl TestServer {
    /// Binds 127.0.0.1:0 and runs `serve(listener, shutdown)` in the background.
    pub async fn spawn<F, Fut>(serve: F) -> anyhow::Result<Self>
    where
        F: FnOnce(TcpListener, BoxFuture<'static, ()>) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown: BoxFuture<'static, ()> = Box::pin(async move {
            let _ = rx.await;
        });
        let handle = tokio::spawn(serve(listener, shutdown));
        Ok(Self {
            addr,
            shutdown: Some(tx),
            handle,
        })
    }

    /// Builds service `S` from `config` and serves it on a free port.
    pub async fn start<S: tribe_kit::bootstrap::Service>(
        config: S::Config,
    ) -> anyhow::Result<Self> {
        let app = S::build(config).await?;
        Self::spawn(move |listener, shutdown| app.serve(listener, shutdown)).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A native gRPC channel to the server.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        Ok(Endpoint::from_shared(self.url())?
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await?)
    }

    /// Triggers the graceful drain and waits for the server to stop.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.handle).await?
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A free loopback address (bound, read, released) for processes that take a port.
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
}

/// A real Envoy edge in front of one test upstream, on free ports, with the test's JWKS.
pub struct TestEdge {
    envoy: tribe_infra::envoy::EnvoyProcess,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for TestEdge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestEdge")
            .field("listen", &self.envoy.listen_addr())
            .finish()
    }
}

impl TestEdge {
    /// Starts Envoy (from `tribe_infra::envoy::envoy_binary()`) routing to `upstream`.
    pub async fn start(
        upstream: tribe_infra::envoy::Upstream,
        jwks: &Path,
    ) -> anyhow::Result<Self> {
        let params = tribe_infra::envoy::EnvoyParams::new(
            free_addr(),
            free_addr(),
            jwks.to_path_buf(),
            vec![upstream],
        );
        let dir = tempfile::tempdir()?;
        let envoy = tribe_infra::envoy::EnvoyProcess::start(
            &tribe_infra::envoy::envoy_binary(),
            &params,
            dir.path(),
        )
        .await?;
        Ok(Self { envoy, _dir: dir })
    }

    /// The edge's base URL (gRPC and gRPC-Web).
    pub fn url(&self) -> String {
        format!("http://{}", self.envoy.listen_addr())
    }

    /// Calls `path` over gRPC-Web until the upstream itself answers — not Envoy's
    /// UNAVAILABLE while its health check has not yet marked the upstream healthy — and
    /// returns that answer (a response, or the service's status code and message). Fails
    /// the test after 20 s.
    #[allow(clippy::panic)] // a test helper: failing loudly is the point
    pub async fn first_answer<Req: prost::Message, Resp: prost::Message + Default>(
        &self,
        path: &str,
        request: &Req,
        bearer: Option<&str>,
    ) -> Result<Resp, (i32, String)> {
        const UNAVAILABLE: i32 = 14;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let last = match crate::grpc_web::call(&self.url(), path, request, bearer).await {
                Ok(Err((UNAVAILABLE, message))) => format!("UNAVAILABLE {message}"),
                Err(err) => format!("{err:#}"),
                Ok(answer) => return answer,
            };
            if tokio::time::Instant::now() >= deadline {
                panic!("{path} never answered through the edge: {last}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Connects to a service binary the test started on `addr`, retrying while it starts (it
/// migrates its database first); fails the test if the process exits or 30 s pass.
#[allow(clippy::expect_used)] // a test helper: failing loudly is the point
pub async fn connect_to_binary(
    child: &mut tokio::process::Child,
    addr: SocketAddr,
    name: &str,
) -> Channel {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let endpoint = Endpoint::from_shared(format!("http://{addr}")).expect("endpoint URL");
        if let Ok(channel) = endpoint.connect().await {
            return channel;
        }
        let exited = child.try_wait().expect("poll the child process");
        assert!(exited.is_none(), "{name} exited during startup: {exited:?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never listened on {addr}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
