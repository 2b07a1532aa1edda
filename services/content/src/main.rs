//! `tribe-content`: config -> telemetry -> App::build -> serve until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = tribe_kit::telemetry::init("content")?;
    let config = tribe_content::Config::from_env()?;
    let listener = tribe_kit::server::bind(&config.server).await?;
    tracing::info!(addr = %listener.local_addr()?, "content service listening");
    let app = tribe_content::App::build(config).await?;
    let result = app
        .serve(listener, tribe_kit::server::shutdown_signal())
        .await;
    telemetry.shutdown();
    result
}
