//! `tribe-fitness`: config -> telemetry -> App::build -> serve until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tribe_kit::bootstrap::main::<tribe_fitness::App>().await
}
