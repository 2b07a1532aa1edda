//! The Kafka-compatible broker of `tribe up`: tansu with durable SQLite storage under
//! `.tribe/broker` (memory if SQLite is unavailable), unless one already listens; then
//! the domain topics, which the broker does not create by itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};
use tribe_kit::config::KafkaConfig;

use crate::health::tcp_open;
use crate::procs::{self, PidFile};
use crate::state::State;
use crate::ui;

/// The broker the mesh uses, and the process if the launcher started it.
#[derive(Debug)]
pub struct Broker {
    pub addr: SocketAddr,
    /// "external", or the storage engine URL of the broker started here.
    pub storage: String,
    child: Option<(Child, PidFile)>,
}

/// 127.0.0.1:$TRIBE_KAFKA_PORT (default 9092).
pub fn broker_addr() -> anyhow::Result<SocketAddr> {
    let port: u16 = tribe_kit::config::parse_or("TRIBE_KAFKA_PORT", 9092)?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// `tansu` from PATH, else from cargo's bin directory.
fn tansu_binary() -> PathBuf {
    let on_path =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| d.join("tansu")).find(|p| p.is_file())).unwrap_or_default();
    on_path.unwrap_or_else(|| {
        let home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
            .unwrap_or_default();
        home.join("bin/tansu")
    })
}

impl Broker {
    /// Uses a broker already on the port, or starts tansu; then creates the topics.
    pub async fn start(state: &State) -> anyhow::Result<Broker> {
        let addr = broker_addr()?;
        ui::step(format!("Kafka-compatible broker on {addr}"));
        let broker = if tcp_open(addr).await {
            ui::ok(format!("a broker already listens on {addr}; using it"));
            Broker { addr, storage: "external".into(), child: None }
        } else {
            match Self::spawn(state, addr, "sqlite://data/tansu.db").await {
                Ok(broker) => broker,
                Err(err) => {
                    ui::note(format!(
                        "tansu with SQLite storage failed ({err:#}); falling back to memory storage, events will not survive a restart"
                    ));
                    Self::spawn(state, addr, "memory://tansu/").await?
                }
            }
        };
        let kafka = KafkaConfig { brokers: addr.to_string(), topic_suffix: String::new() };
        tribe_kit::outbox::ensure_topics(&kafka, &tribe_kit::outbox::TOPICS, 3).await.context("create topics")?;
        ui::ok(format!("topics: {}", tribe_kit::outbox::TOPICS.join(", ")));
        Ok(broker)
    }

    async fn spawn(state: &State, addr: SocketAddr, storage: &str) -> anyhow::Result<Broker> {
        let binary = tansu_binary();
        anyhow::ensure!(binary.is_file(), "tansu not found (run mesh/setup.sh tansu)");
        let dir = state.broker();
        std::fs::create_dir_all(dir.join("data"))?;
        let url = format!("tcp://{addr}");
        let mut command = Command::new(&binary);
        command.current_dir(&dir).arg("broker").args(["--storage-engine", storage]).args([
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ]);
        let log = state.log_file("broker");
        let mut child = procs::spawn_logged(command, &log).with_context(|| format!("start {}", binary.display()))?;
        let pid = child.id().unwrap_or_default();
        let pid_file = PidFile::write(state.pid_file("broker"), pid, &binary)?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = child.try_wait()? {
                pid_file.remove();
                anyhow::bail!("tansu exited ({status}):\n{}", procs::tail(&log, 10));
            }
            if tcp_open(addr).await {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                procs::terminate(&mut child, Duration::from_secs(2)).await;
                pid_file.remove();
                anyhow::bail!("tansu did not listen on {addr} within 15s:\n{}", procs::tail(&log, 10));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ui::ok(format!("tansu (pid {pid}, storage {storage} in {}, log {})", dir.display(), log.display()));
        Ok(Broker { addr, storage: storage.to_string(), child: Some((child, pid_file)) })
    }

    /// Stops the broker if the launcher started it.
    pub async fn stop(self) {
        if let Some((mut child, pid_file)) = self.child {
            procs::terminate(&mut child, Duration::from_secs(10)).await;
            pid_file.remove();
            ui::ok("broker stopped");
        }
    }
}
