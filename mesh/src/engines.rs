//! The JVM engines of `tribe up`: Apache Kafka 4.4 (KRaft, durable under `.tribe/kafka`)
//! and, with `--cql`, Apache Cassandra 5.0 for the CQL stores (`.tribe/cql`). Both are
//! started through `mesh/engines.sh`, which holds their configuration and JVM flags; an
//! engine already listening on its port is used as it is.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
pub use tribe_infra::engines::{EngineProcess, cql_addr, kafka_addr};
use tribe_kit::config::{KafkaConfig, TopicLayout};

use crate::health::tcp_open;
use crate::procs::PidFile;
use crate::state::State;
use crate::ui;

/// How long an engine may take to answer after its JVM started (Cassandra needs ~20 s on
/// two busy cores).
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// One engine the mesh uses, and its process if the launcher started it.
#[derive(Debug)]
pub struct Engine {
    pub name: &'static str,
    pub addr: SocketAddr,
    /// Where its data lives, or "external".
    pub storage: String,
    process: Option<(EngineProcess, PidFile)>,
}

impl Engine {
    /// Kafka on [`kafka_addr`], then the domain topics (partitions and replication from
    /// `TRIBE_KAFKA_PARTITIONS` / `TRIBE_KAFKA_REPLICATION`).
    pub async fn kafka(root: &Path, state: &State) -> anyhow::Result<Engine> {
        let addr = kafka_addr()?;
        let controller: u16 = tribe_kit::config::parse_or("TRIBE_KAFKA_CONTROLLER_PORT", 9093)?;
        ui::step(format!("Apache Kafka on {addr}"));
        let args = [
            state.kafka().display().to_string(),
            addr.port().to_string(),
            controller.to_string(),
        ];
        let engine = Self::start(root, state, "kafka", addr, "kafka-run", &args).await?;
        let kafka = KafkaConfig {
            brokers: addr.to_string(),
            topic_suffix: String::new(),
        };
        let layout = TopicLayout::from_env()?;
        tribe_kit::kafka::ensure_topics(&kafka, &tribe_kit::kafka::TOPICS, layout)
            .await
            .context("create topics")?;
        ui::ok(format!(
            "topics ({} partitions, replication {}): {}",
            layout.partitions,
            layout.replication,
            tribe_kit::kafka::TOPICS.join(", ")
        ));
        Ok(engine)
    }

    /// Cassandra on [`cql_addr`] (storage port `TRIBE_CQL_STORAGE_PORT`, default 7000).
    pub async fn cql(root: &Path, state: &State) -> anyhow::Result<Engine> {
        let addr = cql_addr()?;
        let storage: u16 = tribe_kit::config::parse_or("TRIBE_CQL_STORAGE_PORT", 7000)?;
        ui::step(format!("CQL server (Apache Cassandra) on {addr}"));
        let args = [
            state.cql().display().to_string(),
            addr.port().to_string(),
            storage.to_string(),
        ];
        Self::start(root, state, "cql", addr, "cql-run", &args).await
    }

    async fn start(
        root: &Path,
        state: &State,
        name: &'static str,
        addr: SocketAddr,
        run: &str,
        args: &[String],
    ) -> anyhow::Result<Engine> {
        if tcp_open(addr).await {
            ui::ok(format!("something already listens on {addr}; using it"));
            return Ok(Engine {
                name,
                addr,
                storage: "external".into(),
                process: None,
            });
        }
        let log = state.log_file(name);
        let mut process = EngineProcess::spawn(root, run, args, &log)?;
        let pid = process.child.id().unwrap_or_default();
        // The pid is the JVM's (engines.sh execs it), whose argv[0] is "java".
        let pid_file = PidFile::write(state.pid_file(name), pid, Path::new("java"))?;
        let waited = process
            .wait_listening(addr, START_TIMEOUT, |waited| {
                ui::detail(format!(
                    "  still starting after {}s (log {})",
                    waited.as_secs(),
                    log.display()
                ))
            })
            .await;
        let took = match waited {
            Ok(took) => took,
            Err(err) => {
                pid_file.remove();
                return Err(err.context(name));
            }
        };
        let dir = args.first().cloned().unwrap_or_default();
        ui::ok(format!(
            "{name} (pid {pid}) after {:.1}s, data in {dir}, log {}",
            took.as_secs_f32(),
            log.display()
        ));
        Ok(Engine {
            name,
            addr,
            storage: dir,
            process: Some((process, pid_file)),
        })
    }

    /// Stops the engine if the launcher started it (both flush on SIGTERM).
    pub async fn stop(self) {
        if let Some((mut process, pid_file)) = self.process {
            process.stop(Duration::from_secs(30)).await;
            pid_file.remove();
            ui::ok(format!("{} stopped", self.name));
        }
    }
}
