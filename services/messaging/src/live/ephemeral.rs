//! Ephemeral state in Redis: presence (per-stream entries with expiring heartbeats),
//! typing indicators that lapse by themselves, unread counters (a cache rebuilt from the
//! store whenever it is missing) and the per-user send rate limit. Every operation has a
//! short timeout and callers treat a Redis failure as "unknown" rather than failing the
//! request, so messages keep flowing while Redis restarts.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::aio::ConnectionManager;
use uuid::Uuid;

/// How long a stream's presence entry lives without a heartbeat.
pub const PRESENCE_TTL: Duration = Duration::from_secs(60);
/// How long a user's unread counters are cached before being rebuilt from the store.
pub const UNREAD_CACHE_TTL: Duration = Duration::from_secs(600);
/// How long `typing = true` lasts unless renewed.
pub const TYPING_TTL: Duration = Duration::from_secs(5);

/// Remembers a recent Redis failure so that, for a short while, calls fail at once
/// instead of each waiting for its own timeout (a send touches Redis several times).
#[derive(Debug, Default)]
pub struct Breaker {
    open_until_ms: std::sync::atomic::AtomicI64,
}

/// How long Redis is skipped after a failure before it is tried again.
const BREAK_FOR: Duration = Duration::from_secs(2);

impl Breaker {
    pub fn check(&self) -> anyhow::Result<()> {
        let until = self
            .open_until_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        anyhow::ensure!(
            Utc::now().timestamp_millis() >= until,
            "redis skipped after a recent failure"
        );
        Ok(())
    }

    pub fn failed(&self) {
        let until = Utc::now().timestamp_millis() + BREAK_FOR.as_millis() as i64;
        self.open_until_ms
            .store(until, std::sync::atomic::Ordering::Relaxed);
    }

    /// Runs `op` unless Redis failed recently; a failure opens the breaker.
    pub async fn guard<T>(
        &self,
        op: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        self.check()?;
        let result = op.await;
        if result.is_err() {
            self.failed();
        }
        result
    }
}

/// What a per-user rate limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SendMessage,
    CreateGroup,
}

impl Action {
    /// The key segment: `<prefix>rate:<key>:<user>:<window>`.
    const fn key(self) -> &'static str {
        match self {
            Action::SendMessage => "send",
            Action::CreateGroup => "group",
        }
    }
}

#[derive(Clone)]
pub struct Ephemeral {
    conn: ConnectionManager,
    prefix: String,
    breaker: std::sync::Arc<Breaker>,
}

impl std::fmt::Debug for Ephemeral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ephemeral")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

type R<T> = anyhow::Result<T>;

const OP_TIMEOUT: Duration = Duration::from_secs(2);

impl Ephemeral {
    pub fn new(conn: ConnectionManager, prefix: String, breaker: std::sync::Arc<Breaker>) -> Self {
        Self {
            conn,
            prefix,
            breaker,
        }
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> R<T> {
        let mut conn = self.conn.clone();
        self.breaker
            .guard(async move {
                Ok(tokio::time::timeout(OP_TIMEOUT, cmd.query_async(&mut conn)).await??)
            })
            .await
    }

    async fn pipe<T: redis::FromRedisValue>(&self, pipe: redis::Pipeline) -> R<T> {
        let mut conn = self.conn.clone();
        self.breaker
            .guard(async move {
                Ok(tokio::time::timeout(OP_TIMEOUT, pipe.query_async(&mut conn)).await??)
            })
            .await
    }

    async fn script(&self, invocation: redis::ScriptInvocation<'_>) -> R<i64> {
        let mut conn = self.conn.clone();
        self.breaker
            .guard(async move {
                Ok(
                    tokio::time::timeout(OP_TIMEOUT, invocation.invoke_async::<i64>(&mut conn))
                        .await??,
                )
            })
            .await
    }

    fn presence_key(&self, user: Uuid) -> String {
        format!("{}presence:{user}", self.prefix)
    }

    fn last_seen_key(&self, user: Uuid) -> String {
        format!("{}lastseen:{user}", self.prefix)
    }

    /// Records (or refreshes) one open stream; returns how many live streams the user has
    /// counting this one.
    pub async fn stream_alive(&self, user: Uuid, stream: &str) -> R<u64> {
        let now = Utc::now().timestamp_millis();
        let key = self.presence_key(user);
        let mut pipe = redis::pipe();
        pipe.cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now)
            .ignore();
        pipe.cmd("ZADD")
            .arg(&key)
            .arg(now + PRESENCE_TTL.as_millis() as i64)
            .arg(stream)
            .ignore();
        pipe.cmd("PEXPIRE")
            .arg(&key)
            .arg(PRESENCE_TTL.as_millis() as u64)
            .ignore();
        pipe.cmd("ZCARD").arg(&key);
        let (count,): (u64,) = self.pipe(pipe).await?;
        Ok(count)
    }

    /// Live streams of the user, without registering one.
    pub async fn stream_count(&self, user: Uuid) -> R<u64> {
        let now = Utc::now().timestamp_millis();
        self.run(
            redis::cmd("ZCOUNT")
                .arg(self.presence_key(user))
                .arg(now)
                .arg("+inf")
                .clone(),
        )
        .await
    }

    /// Drops one stream; returns how many remain. When none remain, the last-seen time is
    /// recorded.
    pub async fn stream_closed(&self, user: Uuid, stream: &str) -> R<u64> {
        let key = self.presence_key(user);
        let now = Utc::now();
        let mut pipe = redis::pipe();
        pipe.cmd("ZREM").arg(&key).arg(stream).ignore();
        pipe.cmd("ZCOUNT")
            .arg(&key)
            .arg(now.timestamp_millis())
            .arg("+inf");
        let (left,): (u64,) = self.pipe(pipe).await?;
        if left == 0 {
            let _: () = self
                .run(
                    redis::cmd("SET")
                        .arg(self.last_seen_key(user))
                        .arg(now.timestamp_millis())
                        .arg("EX")
                        .arg(30 * 24 * 3600)
                        .clone(),
                )
                .await?;
        }
        Ok(left)
    }

    /// (online, last seen) of each user.
    pub async fn presence(
        &self,
        users: &[Uuid],
    ) -> R<HashMap<Uuid, (bool, Option<DateTime<Utc>>)>> {
        if users.is_empty() {
            return Ok(HashMap::new());
        }
        let now = Utc::now().timestamp_millis();
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("ZCOUNT")
                .arg(self.presence_key(*user))
                .arg(now)
                .arg("+inf");
            pipe.cmd("GET").arg(self.last_seen_key(*user));
        }
        let values: Vec<redis::Value> = self.pipe(pipe).await?;
        let mut out = HashMap::new();
        for (user, pair) in users.iter().zip(values.chunks(2)) {
            let online = redis::from_redis_value::<u64>(&pair[0]).unwrap_or(0) > 0;
            let seen = redis::from_redis_value::<Option<i64>>(&pair[1])
                .ok()
                .flatten()
                .and_then(DateTime::from_timestamp_millis);
            out.insert(*user, (online, if online { None } else { seen }));
        }
        Ok(out)
    }

    /// Sets or clears a typing indicator. Returns false when a renewal came less than a
    /// second after the previous one (accepted and not re-broadcast).
    pub async fn typing(&self, conversation: Uuid, user: Uuid, typing: bool) -> R<bool> {
        let key = format!("{}typing:{conversation}:{user}", self.prefix);
        if !typing {
            let removed: u64 = self.run(redis::cmd("DEL").arg(&key).clone()).await?;
            return Ok(removed > 0);
        }
        let throttle = format!("{}typingthrottle:{conversation}:{user}", self.prefix);
        let fresh: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(&throttle)
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(1000)
                    .clone(),
            )
            .await?;
        let _: () = self
            .run(
                redis::cmd("SET")
                    .arg(&key)
                    .arg(1)
                    .arg("PX")
                    .arg(TYPING_TTL.as_millis() as u64)
                    .clone(),
            )
            .await?;
        Ok(fresh.is_some())
    }

    /// Counts one `action` against the user's window; true while within the limit.
    pub async fn allow(&self, action: Action, user: Uuid, limit: u64, window: Duration) -> R<bool> {
        let slot = Utc::now().timestamp_millis() / window.as_millis().max(1) as i64;
        let key = format!("{}rate:{}:{user}:{slot}", self.prefix, action.key());
        let mut pipe = redis::pipe();
        pipe.cmd("INCR").arg(&key);
        pipe.cmd("PEXPIRE")
            .arg(&key)
            .arg(window.as_millis() as u64 * 2)
            .ignore();
        let (count,): (u64,) = self.pipe(pipe).await?;
        Ok(count <= limit)
    }

    fn unread_key(&self, user: Uuid) -> String {
        format!("{}unread:{user}", self.prefix)
    }

    /// The cached unread counts per conversation, or `None` when the cache is missing
    /// (first use, expiry, Redis restart): the caller rebuilds it from the store.
    pub async fn unread(&self, user: Uuid) -> R<Option<HashMap<String, i64>>> {
        let map: HashMap<String, i64> = self
            .run(redis::cmd("HGETALL").arg(self.unread_key(user)).clone())
            .await?;
        if !map.contains_key("_built") {
            return Ok(None);
        }
        Ok(Some(
            map.into_iter().filter(|(k, _)| k != "_built").collect(),
        ))
    }

    /// Replaces the cache with counts computed from the store.
    pub async fn set_unread(&self, user: Uuid, counts: &HashMap<Uuid, i64>) -> R<()> {
        let key = self.unread_key(user);
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(&key).ignore();
        pipe.cmd("HSET").arg(&key).arg("_built").arg(1).ignore();
        for (conversation, count) in counts {
            pipe.cmd("HSET")
                .arg(&key)
                .arg(conversation.to_string())
                .arg(*count)
                .ignore();
        }
        // Short-lived: counts a Redis outage made miss (bumps are skipped while it is
        // unreachable) heal by themselves at the next rebuild.
        pipe.cmd("EXPIRE")
            .arg(&key)
            .arg(UNREAD_CACHE_TTL.as_secs())
            .ignore();
        self.pipe::<()>(pipe).await
    }

    /// Counts a new message for each recipient whose cache exists (a missing cache is
    /// rebuilt on the next read, which then includes this message).
    pub async fn bump_unread(&self, users: &[Uuid], conversation: Uuid) -> R<()> {
        let script = redis::Script::new(
            "if redis.call('HEXISTS', KEYS[1], '_built') == 1 then return redis.call('HINCRBY', KEYS[1], ARGV[1], 1) end return 0",
        );
        for user in users {
            let mut invocation = script.key(self.unread_key(*user));
            invocation.arg(conversation.to_string());
            self.script(invocation).await?;
        }
        Ok(())
    }

    /// Sets one conversation's count (after MarkRead) or drops it (after leaving).
    pub async fn set_unread_one(
        &self,
        user: Uuid,
        conversation: Uuid,
        count: Option<i64>,
    ) -> R<()> {
        let key = self.unread_key(user);
        let cmd = match count {
            Some(count) => {
                let script = redis::Script::new(
                    "if redis.call('HEXISTS', KEYS[1], '_built') == 1 then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0",
                );
                let mut invocation = script.key(key);
                invocation.arg(conversation.to_string()).arg(count);
                self.script(invocation).await?;
                return Ok(());
            }
            None => redis::cmd("HDEL")
                .arg(key)
                .arg(conversation.to_string())
                .clone(),
        };
        self.run::<()>(cmd).await
    }
}
