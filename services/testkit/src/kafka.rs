//! A Kafka broker of one test alone (same engine and configuration as the shared one, via
//! `mesh/engines.sh`), for tests that stop, kill or restart the broker without disturbing
//! the tests running beside them. Its data lives in a temporary directory and survives
//! restarts, like a real broker's log.

use std::net::SocketAddr;
use std::time::Duration;

use tribe_infra::engines::EngineProcess;
use tribe_kit::config::KafkaConfig;

/// A private single-node Kafka (KRaft) on free loopback ports.
#[derive(Debug)]
pub struct OwnKafka {
    dir: tempfile::TempDir,
    pub addr: SocketAddr,
    controller: SocketAddr,
    process: Option<EngineProcess>,
}

impl OwnKafka {
    /// Formats fresh storage and starts the broker; returns once it accepts connections.
    pub async fn start() -> anyhow::Result<Self> {
        let mut kafka = Self {
            dir: tempfile::tempdir()?,
            addr: crate::free_addr(),
            controller: crate::free_addr(),
            process: None,
        };
        kafka.spawn().await?;
        Ok(kafka)
    }

    /// Where clients connect, with no topic suffix (the broker is private).
    pub fn config(&self) -> KafkaConfig {
        KafkaConfig {
            brokers: self.addr.to_string(),
            topic_suffix: String::new(),
        }
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let data = self.dir.path().join("kafka");
        let args = [
            data.display().to_string(),
            self.addr.port().to_string(),
            self.controller.port().to_string(),
        ];
        let log = self.dir.path().join("kafka.log");
        let mut process =
            EngineProcess::spawn(&tribe_infra::workspace_root(), "kafka-run", &args, &log)?;
        process
            .wait_listening(self.addr, Duration::from_secs(120), |_| {})
            .await?;
        self.process = Some(process);
        Ok(())
    }

    /// Kills the broker (SIGKILL, no clean shutdown) and starts it again on the same
    /// ports and data; returns once it accepts connections again.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(mut process) = self.process.take() {
            process.kill().await;
        }
        self.spawn().await
    }
}
