//! Per-user rate limits on publishing (posts, comments, reports): fixed one-hour windows
//! counted in Redis. Redis being down never blocks publishing: counting fails open and
//! says so in the log.

use std::time::Duration;

use tribe_kit::ApiError;

use crate::store::redis::Redis;

const WINDOW: Duration = Duration::from_secs(3600);

/// Hourly allowances per user (0 = unlimited).
#[derive(Debug, Clone, Copy)]
pub struct Allowances {
    /// `TRIBE_CONTENT_POSTS_PER_HOUR` (default 60).
    pub posts_per_hour: u64,
    /// `TRIBE_CONTENT_COMMENTS_PER_HOUR` (default 300).
    pub comments_per_hour: u64,
    /// `TRIBE_CONTENT_REPORTS_PER_HOUR` (default 30).
    pub reports_per_hour: u64,
}

impl Default for Allowances {
    fn default() -> Self {
        Self {
            posts_per_hour: 60,
            comments_per_hour: 300,
            reports_per_hour: 30,
        }
    }
}

/// What is being limited.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    Post,
    Comment,
    Report,
}

#[derive(Clone)]
pub struct RateLimits {
    redis: Redis,
    allowances: Allowances,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("redis", &self.redis)
            .field("allowances", &self.allowances)
            .finish()
    }
}

impl RateLimits {
    pub fn new(redis: Redis, allowances: Allowances) -> Self {
        Self { redis, allowances }
    }

    /// Counts one `action` by `user`; RESOURCE_EXHAUSTED once the hour's allowance is used.
    pub async fn hit(&self, action: Action, user: &str) -> Result<(), ApiError> {
        let (name, limit, reason) = match action {
            Action::Post => ("post", self.allowances.posts_per_hour, "POST_RATE_LIMITED"),
            Action::Comment => (
                "comment",
                self.allowances.comments_per_hour,
                "COMMENT_RATE_LIMITED",
            ),
            Action::Report => (
                "report",
                self.allowances.reports_per_hour,
                "REPORT_RATE_LIMITED",
            ),
        };
        if limit == 0 {
            return Ok(());
        }
        let key = format!("{}rate:{name}:{user}", self.redis.prefix());
        let mut conn = match self.redis.conn().await {
            Ok(conn) => conn,
            Err(err) => {
                self.redis.degraded("rate limit counter (allowing)", &err);
                return Ok(());
            }
        };
        let result: redis::RedisResult<(u64, i64)> = redis::pipe()
            .atomic()
            .cmd("INCR")
            .arg(&key)
            .cmd("EXPIRE")
            .arg(&key)
            .arg(WINDOW.as_secs())
            .arg("NX")
            .query_async(&mut conn)
            .await;
        match result {
            Ok((n, _)) if n > limit => Err(ApiError::exhausted(
                reason,
                format!("at most {limit} per hour; try again later"),
            )),
            Ok(_) => Ok(()),
            Err(err) => {
                self.redis.degraded("rate limit counter (allowing)", &err);
                Ok(())
            }
        }
    }
}
