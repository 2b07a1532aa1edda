//! `tribe-payment`: config -> telemetry -> App::build -> serve (with the outbox relay and
//! the billing worker) until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = tribe_kit::telemetry::init("payment")?;
    let config = tribe_payment::Config::from_env()?;
    let listener = tribe_kit::server::bind(&config.server).await?;
    tracing::info!(addr = %listener.local_addr()?, "payment service listening");
    let app = tribe_payment::App::build(config).await?;
    let result = app
        .serve(listener, tribe_kit::server::shutdown_signal())
        .await;
    telemetry.shutdown();
    result
}
