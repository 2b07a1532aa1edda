//! `tribe-payment`: config -> telemetry -> App::build -> serve (with the outbox relay and
//! the billing worker) until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tribe_kit::bootstrap::main::<tribe_payment::App>().await
}
