//! Child processes of the launcher: spawning with a log file, signalling, stopping with a
//! grace period, pid files and cleaning up what a crashed launcher left behind.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::process::{Child, Command};

/// Sends `signal` ("TERM", "KILL", ...) to `pid` with the system `kill` (the workspace
/// forbids unsafe code, so no libc here).
pub fn signal(pid: u32, signal: &str) -> bool {
    std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Asks `child` to stop with SIGTERM and waits up to `grace`, then kills it.
pub async fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    if let Some(pid) = child.id() {
        signal(pid, "TERM");
    }
    match tokio::time::timeout(grace, child.wait()).await {
        Ok(status) => status.ok(),
        Err(_) => {
            let _ = child.start_kill();
            child.wait().await.ok()
        }
    }
}

/// Opens `path` for appending (creating it), for a child's stdout/stderr.
pub fn log_sink(path: &Path) -> anyhow::Result<(Stdio, Stdio)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open log {}", path.display()))?;
    let err = file.try_clone()?;
    Ok((Stdio::from(file), Stdio::from(err)))
}

/// Spawns `command` with both output streams appended to `log`, in its own process
/// group so a Ctrl-C in the terminal reaches only the launcher, which then stops the
/// children in order.
pub fn spawn_logged(mut command: Command, log: &Path) -> anyhow::Result<Child> {
    let (out, err) = log_sink(log)?;
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command.spawn().context("spawn")
}

/// The last `lines` lines of a text file (for error messages).
pub fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A pid file recording a detached child, so the next launcher can stop a leftover one.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn write(path: PathBuf, pid: u32, program: &Path) -> anyhow::Result<Self> {
        std::fs::write(&path, format!("{pid}\n{}\n", program.display()))
            .with_context(|| format!("write {}", path.display()))?;
        Ok(Self { path })
    }

    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// If `pid_file` names a process that is still alive and still runs the recorded
/// program, stops it (SIGTERM, then SIGKILL after `grace`). Returns its pid if it did.
pub async fn stop_leftover(pid_file: &Path, grace: Duration) -> Option<u32> {
    let text = std::fs::read_to_string(pid_file).ok()?;
    let _ = std::fs::remove_file(pid_file);
    let mut lines = text.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    let program = lines.next()?.trim().to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let argv0 = cmdline
        .split(|b| *b == 0)
        .next()
        .map(|s| String::from_utf8_lossy(s).into_owned())?;
    // The pid may have been reused by an unrelated process: only touch our program.
    let name = |p: &str| Path::new(p).file_name().map(|n| n.to_owned());
    if argv0 != program && name(&argv0) != name(&program) {
        return None;
    }
    signal(pid, "TERM");
    let deadline = tokio::time::Instant::now() + grace;
    while Path::new(&format!("/proc/{pid}")).exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    if Path::new(&format!("/proc/{pid}")).exists() {
        signal(pid, "KILL");
    }
    Some(pid)
}
