//! Server bootstrap shared by every service: gRPC + gRPC-Web on one port, health,
//! reflection, auth, timeouts, load shedding, and a graceful drain on SIGTERM.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::auth::AuthLayer;
use crate::config::ServerConfig;

/// Binds the configured address (port 0 = any free port).
pub async fn bind(config: &ServerConfig) -> anyhow::Result<TcpListener> {
    TcpListener::bind(config.listen_addr)
        .await
        .map_err(|e| anyhow::anyhow!("bind {}: {e}", config.listen_addr))
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Serves `routes` (the domain services) plus `grpc.health.v1` and reflection on
/// `listener` until `shutdown` resolves, then drains: health turns NOT_SERVING for
/// `config.drain_delay` while calls are still accepted, new connections stop, and
/// in-flight calls get up to `config.drain_timeout` to finish.
pub async fn serve(
    config: &ServerConfig,
    auth: AuthLayer,
    routes: Routes,
    service_names: &[&str],
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in service_names.iter().copied().chain([""]) {
        reporter
            .set_service_status(name, ServingStatus::Serving)
            .await;
    }
    // Reflection lists only what this server serves, though it can describe every type.
    let mut reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(tribe_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health");
    for name in service_names {
        reflection = reflection.with_service_name(*name);
    }
    let reflection = reflection.build_v1()?;
    let routes = routes.add_service(health).add_service(reflection);

    let layers = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(tower::load_shed::LoadShedLayer::new())
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            config.max_concurrent,
        ))
        .layer(auth)
        .into_inner();

    let names: Vec<String> = service_names.iter().map(|s| s.to_string()).collect();
    let drain_delay = config.drain_delay;
    let (drained_tx, drained_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!(
            delay_ms = drain_delay.as_millis() as u64,
            "draining: reporting NOT_SERVING"
        );
        for name in names.iter().map(String::as_str).chain([""]) {
            reporter
                .set_service_status(name, ServingStatus::NotServing)
                .await;
        }
        tokio::time::sleep(drain_delay).await;
        let _ = drained_tx.send(());
        tracing::info!("draining: closing listener, finishing in-flight calls");
    };

    let server = tonic::transport::Server::builder()
        .accept_http1(true)
        .timeout(config.request_timeout)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .trace_fn(crate::telemetry::server_span)
        .layer(layers)
        .add_routes(routes)
        // Without TCP_NODELAY, multi-segment responses wait on delayed ACKs (~40 ms).
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            signal,
        );

    let drain_timeout = config.drain_timeout;
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => result?,
        _ = async { let _ = drained_rx.await; tokio::time::sleep(drain_timeout).await } => {
            tracing::warn!("drain timeout reached; abandoning remaining calls");
        }
    }
    tracing::info!("server stopped");
    Ok(())
}
