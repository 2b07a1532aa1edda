//! Fixed-window abuse counters in Redis (login failures, registrations). Redis being
//! down never locks users out: counting fails open and says so in the log.

use std::time::Duration;

use redis::aio::ConnectionManager;

#[derive(Clone)]
pub struct Throttle {
    redis: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl Throttle {
    pub fn new(redis: ConnectionManager, prefix: String) -> Self {
        Self { redis, prefix }
    }

    fn key(&self, kind: &str, subject: &str) -> String {
        format!("{}throttle:{kind}:{subject}", self.prefix)
    }

    /// The current count of `kind` for `subject`.
    pub async fn count(&self, kind: &str, subject: &str) -> u64 {
        let mut conn = self.redis.clone();
        match redis::cmd("GET")
            .arg(self.key(kind, subject))
            .query_async::<Option<u64>>(&mut conn)
            .await
        {
            Ok(v) => v.unwrap_or(0),
            Err(err) => {
                tracing::warn!(error = %err, kind, "throttle read failed; allowing");
                0
            }
        }
    }

    /// Adds one to the counter, starting its window on first use; returns the new count.
    pub async fn hit(&self, kind: &str, subject: &str, window: Duration) -> u64 {
        let mut conn = self.redis.clone();
        let key = self.key(kind, subject);
        let result: redis::RedisResult<(u64, i64)> = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(window.as_secs().max(1))
            .arg("NX")
            .query_async(&mut conn)
            .await;
        match result {
            Ok((n, _)) => n,
            Err(err) => {
                tracing::warn!(error = %err, kind, "throttle write failed; allowing");
                0
            }
        }
    }

    pub async fn reset(&self, kind: &str, subject: &str) {
        let mut conn = self.redis.clone();
        if let Err(err) = redis::cmd("DEL")
            .arg(self.key(kind, subject))
            .query_async::<()>(&mut conn)
            .await
        {
            tracing::warn!(error = %err, kind, "throttle reset failed");
        }
    }
}
