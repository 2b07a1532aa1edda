//! A running Envoy: started from a rendered config, ready when its admin says LIVE,
//! killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};

use super::{EnvoyParams, render};
use crate::{health, procs};

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// An Envoy child process and its addresses.
#[derive(Debug)]
pub struct EnvoyProcess {
    child: Child,
    listen: SocketAddr,
    admin: SocketAddr,
    dir: PathBuf,
}

impl EnvoyProcess {
    /// Writes the config to `dir/envoy.yaml`, starts `binary -c ... --log-path
    /// dir/envoy.log` (access log in `dir/access.log`), and waits up to 20s until the
    /// admin `/ready` answers LIVE. The child is killed on drop.
    pub async fn start(
        binary: &Path,
        params: &EnvoyParams,
        dir: &Path,
    ) -> anyhow::Result<EnvoyProcess> {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        let config = dir.join("envoy.yaml");
        std::fs::write(&config, render(params))
            .with_context(|| format!("write {}", config.display()))?;
        let log = dir.join("envoy.log");
        let (access, _) = procs::log_sink(&dir.join("access.log"))?;
        let (_, stderr) = procs::log_sink(&dir.join("envoy.stderr.log"))?;

        let mut command = Command::new(binary);
        command
            .arg("-c")
            .arg(&config)
            .arg("--log-path")
            .arg(&log)
            // Several Envoys (parallel tests, a running mesh) share this machine.
            .arg("--disable-hot-restart")
            .args(["--log-level", "info", "--drain-time-s", "1"])
            .stdin(std::process::Stdio::null())
            .stdout(access)
            .stderr(stderr)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("start {}", binary.display()))?;
        let mut envoy = EnvoyProcess {
            child,
            listen: params.listen,
            admin: params.admin,
            dir: dir.to_path_buf(),
        };
        envoy.wait_ready().await?;
        Ok(envoy)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "envoy exited ({status}) before becoming ready:\n{}",
                    self.log_tail()
                );
            }
            let last = match health::envoy_ready(self.admin).await {
                Ok(state) if state == "LIVE" => return Ok(()),
                Ok(state) => state,
                Err(err) => format!("{err:#}"),
            };
            if tokio::time::Instant::now() >= deadline {
                let _ = self.child.start_kill();
                anyhow::bail!(
                    "envoy not ready after {READY_TIMEOUT:?} (last: {last}):\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let mut text = procs::tail(&self.dir.join("envoy.log"), 20);
        let stderr = procs::tail(&self.dir.join("envoy.stderr.log"), 20);
        if !stderr.is_empty() {
            text.push('\n');
            text.push_str(&stderr);
        }
        text
    }

    /// The public listener (gRPC and gRPC-Web).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
    }

    /// The admin interface.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether the process has exited (and how).
    pub fn try_exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops Envoy: SIGTERM, then SIGKILL after 5s.
    pub async fn stop(mut self) {
        procs::terminate(&mut self.child, Duration::from_secs(5)).await;
    }
}
