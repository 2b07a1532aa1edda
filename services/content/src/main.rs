//! `tribe-content`: config -> telemetry -> App::build -> serve until SIGTERM.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tribe_kit::bootstrap::main::<tribe_content::App>().await
}
