//! `tribe-analytics`: config -> telemetry -> App::build -> serve until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = tribe_kit::telemetry::init("analytics")?;
    let config = tribe_analytics::Config::from_env()?;
    let listener = tribe_kit::server::bind(&config.server).await?;
    tracing::info!(addr = %listener.local_addr()?, "analytics service listening");
    let app = tribe_analytics::App::build(config).await?;
    let result = app
        .serve(listener, tribe_kit::server::shutdown_signal())
        .await;
    telemetry.shutdown();
    result
}
