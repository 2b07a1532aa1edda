//! The service's Redis connection (rate-limit counters, the post and author caches),
//! connected lazily so an unreachable Redis neither stops the service from starting nor
//! fails a request: callers get an error they treat as "no cache", and the outage is
//! logged at most once a minute.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long after a failed connect the next request tries again.
const RECONNECT_AFTER: Duration = Duration::from_secs(2);
/// A cache lookup that takes longer than this is cheaper served from Postgres.
const TIMEOUT: Duration = Duration::from_millis(500);
/// Warnings about an unavailable Redis are this far apart (debug in between).
const WARN_EVERY: Duration = Duration::from_secs(60);

/// A shared, lazily (re)connected Redis client with a key prefix.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    conn: tokio::sync::Mutex<Option<ConnectionManager>>,
    started: Instant,
    /// Milliseconds since `started` before which no new connect is attempted.
    retry_at_ms: AtomicU64,
    /// Milliseconds since `started` of the last warning (0 = never).
    warned_at_ms: AtomicU64,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Redis {
    /// Parses `url`; connects on first use.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.to_string(),
                conn: tokio::sync::Mutex::new(None),
                started: Instant::now(),
                retry_at_ms: AtomicU64::new(0),
                warned_at_ms: AtomicU64::new(0),
            }),
        })
    }

    /// The key prefix every key of this service starts with.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    fn now_ms(&self) -> u64 {
        self.inner.started.elapsed().as_millis() as u64
    }

    /// A connection, connecting if there is none yet. While a connect failed less than
    /// [`RECONNECT_AFTER`] ago, fails at once instead of trying again on every request.
    pub async fn conn(&self) -> redis::RedisResult<ConnectionManager> {
        let mut slot = self.inner.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        if self.now_ms() < self.inner.retry_at_ms.load(Ordering::Relaxed) {
            return Err(redis::RedisError::from((
                redis::ErrorKind::IoError,
                "redis unavailable (waiting to reconnect)",
            )));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1);
        match ConnectionManager::new_with_config(self.inner.client.clone(), config).await {
            Ok(conn) => {
                *slot = Some(conn.clone());
                Ok(conn)
            }
            Err(err) => {
                self.inner.retry_at_ms.store(
                    self.now_ms() + RECONNECT_AFTER.as_millis() as u64,
                    Ordering::Relaxed,
                );
                Err(err)
            }
        }
    }

    /// Logs that Redis failed for `what`; a warning at most once a minute, debug otherwise,
    /// so an outage does not flood the log with one line per request.
    pub fn degraded(&self, what: &'static str, err: &redis::RedisError) {
        let now = self.now_ms().max(1);
        let last = self.inner.warned_at_ms.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= WARN_EVERY.as_millis() as u64;
        if due
            && self
                .inner
                .warned_at_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(error = %err, what, "redis unavailable; continuing without it (further failures logged at debug for a minute)");
        } else {
            tracing::debug!(error = %err, what, "redis unavailable; continuing without it");
        }
    }
}
