//! Engine processes: a JVM engine (Kafka, the CQL server) started through
//! `mesh/engines.sh`, and the addresses the mesh and the tests expect them on.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};

use crate::health::tcp_open;
use crate::procs;

/// 127.0.0.1:$TRIBE_KAFKA_PORT (default 9092).
pub fn kafka_addr() -> anyhow::Result<SocketAddr> {
    let port: u16 = tribe_kit::config::parse_or("TRIBE_KAFKA_PORT", 9092)?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// 127.0.0.1:$TRIBE_CQL_PORT (default 9042).
pub fn cql_addr() -> anyhow::Result<SocketAddr> {
    let port: u16 = tribe_kit::config::parse_or("TRIBE_CQL_PORT", 9042)?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// An engine's JVM started by `mesh/engines.sh <run> <args>`, logging to a file. Used by
/// `tribe up` and by tests that need an engine of their own (to restart it, say).
#[derive(Debug)]
pub struct EngineProcess {
    pub child: Child,
    pub log: PathBuf,
}

impl EngineProcess {
    /// Spawns `bash <root>/mesh/engines.sh <run> <args...>`; the script execs the JVM, so
    /// the child's pid is the engine's.
    pub fn spawn(root: &Path, run: &str, args: &[String], log: &Path) -> anyhow::Result<Self> {
        let script = root.join("mesh/engines.sh");
        anyhow::ensure!(script.is_file(), "{} is missing", script.display());
        let mut command = Command::new("bash");
        command.current_dir(root).arg(&script).arg(run).args(args);
        let child = procs::spawn_logged(command, log).with_context(|| format!("start {run}"))?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
        })
    }

    /// Waits until `addr` accepts connections; `progress` is called every 10 s. Fails with
    /// the log's tail if the process exits or `timeout` passes (and then stops it).
    pub async fn wait_listening(
        &mut self,
        addr: SocketAddr,
        timeout: Duration,
        mut progress: impl FnMut(Duration),
    ) -> anyhow::Result<Duration> {
        let started = tokio::time::Instant::now();
        let mut reported = 0;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("exited ({status}):\n{}", procs::tail(&self.log, 15));
            }
            if tcp_open(addr).await {
                return Ok(started.elapsed());
            }
            let waited = started.elapsed();
            if waited >= timeout {
                procs::terminate(&mut self.child, Duration::from_secs(5)).await;
                anyhow::bail!(
                    "did not answer on {addr} within {timeout:?}:\n{}",
                    procs::tail(&self.log, 15)
                );
            }
            if waited.as_secs() / 10 > reported {
                reported = waited.as_secs() / 10;
                progress(waited);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(&mut self, grace: Duration) {
        procs::terminate(&mut self.child, grace).await;
    }

    /// SIGKILL: the engine gets no chance to flush, as in a crash.
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}
