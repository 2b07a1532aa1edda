//! The per-user budget of tracked events: fixed one-minute windows counted in Redis.

use chrono::{DateTime, Utc};
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
            .finish_non_exhaustive()
    }
}

impl Throttle {
    pub fn new(redis: ConnectionManager, prefix: String) -> Self {
        Self { redis, prefix }
    }

    /// Adds `n` events of `user_id` to the minute holding `now`; returns the minute's total.
    pub async fn add(&self, user_id: &str, n: u64, now: DateTime<Utc>) -> redis::RedisResult<u64> {
        let key = format!("{}track:{user_id}:{}", self.prefix, now.timestamp() / 60);
        let mut conn = self.redis.clone();
        let (used,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, n)
            .expire(&key, 120)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(used)
    }
}
