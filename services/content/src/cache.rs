//! The Redis caches of hot post bodies and author summaries. Both are best effort: any
//! Redis error reads as "not cached" (the caller goes to Postgres or the user service),
//! and a write or delete that fails is only logged.
//!
//! Keys (under the service prefix, `TRIBE_CONTENT_REDIS_PREFIX`):
//! - `post:v1:<post id>`: JSON of [`PostBody`], `TRIBE_CONTENT_POST_CACHE_TTL` (10 min);
//! - `user:v1:<user id>`: protobuf of `UserSummary`, `TRIBE_CONTENT_USER_CACHE_TTL` (60 s).
//!
//! A TTL of 0 disables that cache (no Redis traffic for it at all).

use std::collections::HashMap;
use std::time::Duration;

use prost::Message;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::store::posts::PostBody;
use crate::store::redis::Redis;

/// The post-body and author-summary caches.
#[derive(Clone, Debug)]
pub struct Cache {
    redis: Redis,
    post_ttl: Duration,
    user_ttl: Duration,
}

impl Cache {
    pub fn new(redis: Redis, post_ttl: Duration, user_ttl: Duration) -> Self {
        Self {
            redis,
            post_ttl,
            user_ttl,
        }
    }

    /// The Redis key of a cached post body.
    pub fn post_key(&self, id: Uuid) -> String {
        format!("{}post:v1:{id}", self.redis.prefix())
    }

    /// The Redis key of a cached author summary.
    pub fn user_key(&self, id: Uuid) -> String {
        format!("{}user:v1:{id}", self.redis.prefix())
    }

    /// One MGET of `keys`; `None` per key not cached, all `None` when Redis fails.
    async fn mget(&self, what: &'static str, keys: Vec<String>) -> Vec<Option<Vec<u8>>> {
        let n = keys.len();
        let result = async {
            let mut conn = self.redis.conn().await?;
            redis::cmd("MGET")
                .arg(keys)
                .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
                .await
        }
        .await;
        match result {
            Ok(values) if values.len() == n => values,
            Ok(_) => vec![None; n],
            Err(err) => {
                self.redis.degraded(what, &err);
                vec![None; n]
            }
        }
    }

    /// One pipelined batch of SET EX.
    async fn set_all(&self, what: &'static str, entries: Vec<(String, Vec<u8>)>, ttl: Duration) {
        if entries.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for (key, value) in entries {
            pipe.cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ttl.as_millis() as u64)
                .ignore();
        }
        let result = async {
            let mut conn = self.redis.conn().await?;
            pipe.query_async::<()>(&mut conn).await
        }
        .await;
        if let Err(err) = result {
            self.redis.degraded(what, &err);
        }
    }

    async fn delete(&self, what: &'static str, key: String) {
        let result = async {
            let mut conn = self.redis.conn().await?;
            redis::cmd("DEL")
                .arg(key)
                .query_async::<()>(&mut conn)
                .await
        }
        .await;
        if let Err(err) = result {
            self.redis.degraded(what, &err);
        }
    }

    /// Cached bodies of `ids` (one MGET); undecodable entries count as misses.
    pub async fn posts(&self, ids: &[Uuid]) -> HashMap<Uuid, PostBody> {
        if self.post_ttl.is_zero() || ids.is_empty() {
            return HashMap::new();
        }
        let values = self
            .mget(
                "post cache read",
                ids.iter().map(|id| self.post_key(*id)).collect(),
            )
            .await;
        ids.iter()
            .zip(values)
            .filter_map(|(id, raw)| {
                let body: PostBody = serde_json::from_slice(&raw?).ok()?;
                (body.id == *id).then_some((*id, body))
            })
            .collect()
    }

    /// Caches `bodies` (one pipeline).
    pub async fn put_posts(&self, bodies: &[PostBody]) {
        if self.post_ttl.is_zero() {
            return;
        }
        let entries = bodies
            .iter()
            .filter_map(|b| {
                serde_json::to_vec(b)
                    .ok()
                    .map(|json| (self.post_key(b.id), json))
            })
            .collect::<Vec<_>>();
        self.set_all("post cache write", entries, self.post_ttl)
            .await;
    }

    /// Drops a post's cached body; call after the change is committed.
    pub async fn forget_post(&self, id: Uuid) {
        if !self.post_ttl.is_zero() {
            self.delete("post cache invalidation", self.post_key(id))
                .await;
        }
    }

    /// Cached summaries of `ids` (one MGET).
    pub async fn users(&self, ids: &[Uuid]) -> HashMap<Uuid, UserSummary> {
        if self.user_ttl.is_zero() || ids.is_empty() {
            return HashMap::new();
        }
        let values = self
            .mget(
                "author cache read",
                ids.iter().map(|id| self.user_key(*id)).collect(),
            )
            .await;
        ids.iter()
            .zip(values)
            .filter_map(|(id, raw)| Some((*id, UserSummary::decode(raw?.as_slice()).ok()?)))
            .collect()
    }

    /// Caches `summaries` (one pipeline).
    pub async fn put_users(&self, summaries: &HashMap<Uuid, UserSummary>) {
        if self.user_ttl.is_zero() {
            return;
        }
        let entries = summaries
            .iter()
            .map(|(id, s)| (self.user_key(*id), s.encode_to_vec()))
            .collect();
        self.set_all("author cache write", entries, self.user_ttl)
            .await;
    }

    /// Drops a user's cached summary (their profile changed).
    pub async fn forget_user(&self, id: Uuid) {
        if !self.user_ttl.is_zero() {
            self.delete("author cache invalidation", self.user_key(id))
                .await;
        }
    }
}
