//! `tribe-messaging`: config -> telemetry -> App::build -> serve until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = tribe_kit::telemetry::init("messaging")?;
    let config = tribe_messaging::Config::from_env()?;
    let listener = tribe_kit::server::bind(&config.server).await?;
    tracing::info!(addr = %listener.local_addr()?, "messaging service listening");
    let app = tribe_messaging::App::build(config).await?;
    let result = app
        .serve(listener, tribe_kit::server::shutdown_signal())
        .await;
    telemetry.shutdown();
    result
}
