//! Work that lives as long as a server (outbox relays, event consumers, workers): each
//! started with its own stop signal, stopped one by one in reverse start order after the
//! server has drained (start the outbox relay first so it stops last and publishes what
//! the others wrote), each task's failure reported by name. Every service's `App::serve` uses this instead of
//! wiring its own channel and join handles.

use std::future::Future;

use futures::future::BoxFuture;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a background task may return: nothing, or a result whose error is logged.
pub trait TaskOutcome: Send + 'static {
    fn into_result(self) -> anyhow::Result<()>;
}

impl TaskOutcome for () {
    fn into_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl TaskOutcome for anyhow::Result<()> {
    fn into_result(self) -> anyhow::Result<()> {
        self
    }
}

/// A set of named background tasks.
#[derive(Debug)]
pub struct Background {
    tasks: Vec<Task>,
}

#[derive(Debug)]
struct Task {
    name: &'static str,
    stop: watch::Sender<bool>,
    handle: JoinHandle<anyhow::Result<()>>,
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Background {
    pub fn new() -> Self {
        Self { tasks: Vec::new() }
    }

    /// Starts `task`, handing it the stop signal it must finish on.
    pub fn spawn<Fut>(
        &mut self,
        name: &'static str,
        task: impl FnOnce(BoxFuture<'static, ()>) -> Fut,
    ) where
        Fut: Future + Send + 'static,
        Fut::Output: TaskOutcome,
    {
        let (stop, mut rx) = watch::channel(false);
        let future = task(Box::pin(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }));
        self.tasks.push(Task {
            name,
            stop,
            handle: tokio::spawn(async move { future.await.into_result() }),
        });
    }

    /// How many tasks were started.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Stops the tasks one at a time, last started first, each awaited before the next is
    /// signalled; failures and panics are logged with the task's name, never propagated.
    pub async fn stop(self) {
        for Task { name, stop, handle } in self.tasks.into_iter().rev() {
            let _ = stop.send(true);
            match handle.await {
                Ok(Ok(())) => {}
                Ok(Err(err)) => tracing::warn!(
                    task = name,
                    error = format!("{err:#}"),
                    "background task stopped with an error"
                ),
                Err(err) => tracing::error!(task = name, error = %err, "background task panicked"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn finished_early() -> bool {
        false
    }

    #[tokio::test]
    async fn tasks_stop_last_first_each_awaited_whatever_the_others_did() {
        let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut background = Background::new();
        for name in ["relay", "worker"] {
            let finished = finished.clone();
            background.spawn(name, move |stop| async move {
                stop.await;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                finished.lock().unwrap().push(name);
            });
        }
        background.spawn("failing", |stop| async move {
            stop.await;
            anyhow::bail!("failed on purpose")
        });
        background.spawn("panicking", |_stop| async move {
            if !finished_early() {
                panic!("panics on purpose");
            }
        });
        assert_eq!(background.len(), 4);
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        assert!(
            finished.lock().unwrap().is_empty(),
            "nothing stops before the signal"
        );
        background.stop().await;
        assert_eq!(
            *finished.lock().unwrap(),
            ["worker", "relay"],
            "the first started stops last, after the others finished"
        );
    }
}
