//! Live delivery: the per-instance hub of open event streams, fed by Redis pub/sub so an
//! event published by any instance reaches the user's streams on every instance.
//!
//! Every user has one channel, `<prefix>live:<user_id>`. A frame is one kind byte and a
//! body: `0` + an encoded `StreamEventsResponse`, or `1` + a session id whose streams end
//! (empty = every session of the user). Each instance pattern-subscribes to all user
//! channels and hands frames to its local streams; when Redis cannot be reached the
//! publisher delivers to local streams directly, so a single instance keeps working.

pub mod ephemeral;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use prost::Message;
use redis::aio::PubSub;
use tokio::sync::{mpsc, watch};
use tribe_kit::ApiError;
use tribe_proto::messaging::v1::StreamEventsResponse;
use uuid::Uuid;

/// Events a stream may fall behind before it is ended with SLOW_CONSUMER.
pub const STREAM_BUFFER: usize = 256;

const KIND_EVENT: u8 = 0;
const KIND_REVOKE: u8 = 1;

/// Why a stream is ended by the server.
#[derive(Debug, Clone)]
pub enum Ending {
    SlowConsumer,
    Revoked,
    Expired,
    Draining,
}

struct Local {
    id: u64,
    session_id: String,
    tx: mpsc::Sender<StreamEventsResponse>,
    end: watch::Sender<Option<Ending>>,
}

/// A registered stream: its events and the reason it was ended, if it was.
pub struct Subscription {
    pub events: mpsc::Receiver<StreamEventsResponse>,
    pub ended: watch::Receiver<Option<Ending>>,
    pub guard: SubscriptionGuard,
}

/// Unregisters the stream when dropped.
pub struct SubscriptionGuard {
    hub: Hub,
    user: Uuid,
    id: u64,
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.hub.unregister(self.user, self.id);
    }
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubInner>,
}

struct HubInner {
    streams: std::sync::Mutex<HashMap<Uuid, Vec<Local>>>,
    next_id: AtomicU64,
    draining: std::sync::atomic::AtomicBool,
    redis: redis::Client,
    publisher: redis::aio::ConnectionManager,
    breaker: Arc<ephemeral::Breaker>,
    prefix: String,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub fn new(
        redis: redis::Client,
        publisher: redis::aio::ConnectionManager,
        breaker: Arc<ephemeral::Breaker>,
        prefix: String,
    ) -> Self {
        Self {
            inner: Arc::new(HubInner {
                streams: std::sync::Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                draining: std::sync::atomic::AtomicBool::new(false),
                redis,
                publisher,
                breaker,
                prefix,
            }),
        }
    }

    fn channel(&self, user: Uuid) -> String {
        format!("{}live:{user}", self.inner.prefix)
    }

    /// Ends every stream on this instance with UNAVAILABLE (the server is draining) and
    /// refuses new ones, so clients reconnect to another instance right away.
    pub fn drain(&self) {
        self.inner.draining.store(true, Ordering::SeqCst);
        if let Ok(mut streams) = self.inner.streams.lock() {
            for local in streams.values().flatten() {
                let _ = local.end.send(Some(Ending::Draining));
            }
            streams.clear();
        }
    }

    pub fn is_draining(&self) -> bool {
        self.inner.draining.load(Ordering::SeqCst)
    }

    /// Number of streams of `user` open on this instance.
    pub fn local_count(&self, user: Uuid) -> usize {
        self.inner
            .streams
            .lock()
            .map(|s| s.get(&user).map_or(0, Vec::len))
            .unwrap_or(0)
    }

    pub fn register(&self, user: Uuid, session_id: &str) -> Subscription {
        let (tx, events) = mpsc::channel(STREAM_BUFFER);
        let (end, ended) = watch::channel(None);
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut streams) = self.inner.streams.lock() {
            streams.entry(user).or_default().push(Local {
                id,
                session_id: session_id.to_string(),
                tx,
                end,
            });
        }
        Subscription {
            events,
            ended,
            guard: SubscriptionGuard {
                hub: self.clone(),
                user,
                id,
            },
        }
    }

    fn unregister(&self, user: Uuid, id: u64) {
        if let Ok(mut streams) = self.inner.streams.lock()
            && let Some(list) = streams.get_mut(&user)
        {
            list.retain(|l| l.id != id);
            if list.is_empty() {
                streams.remove(&user);
            }
        }
    }

    /// Hands an event to this instance's streams of `user`; a stream whose buffer is
    /// full is ended rather than allowed to grow.
    fn deliver_local(&self, user: Uuid, event: &StreamEventsResponse) {
        let Ok(mut streams) = self.inner.streams.lock() else {
            return;
        };
        let Some(list) = streams.get_mut(&user) else {
            return;
        };
        list.retain(|local| match local.tx.try_send(event.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!(user_id = %user, "slow event stream disconnected");
                let _ = local.end.send(Some(Ending::SlowConsumer));
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    fn revoke_local(&self, user: Uuid, session_id: &str) {
        let Ok(mut streams) = self.inner.streams.lock() else {
            return;
        };
        let Some(list) = streams.get_mut(&user) else {
            return;
        };
        list.retain(|local| {
            let hit = session_id.is_empty() || local.session_id == session_id;
            if hit {
                let _ = local.end.send(Some(Ending::Revoked));
            }
            !hit
        });
    }

    /// Publishes one frame to several users' channels in one round trip.
    async fn publish_frames(&self, users: &[Uuid], frame: &[u8]) {
        if users.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        for user in users {
            pipe.cmd("PUBLISH")
                .arg(self.channel(*user))
                .arg(frame)
                .ignore();
        }
        let mut conn = self.inner.publisher.clone();
        let result = self
            .inner
            .breaker
            .guard(async move {
                Ok(
                    tokio::time::timeout(Duration::from_secs(2), pipe.query_async::<()>(&mut conn))
                        .await??,
                )
            })
            .await;
        if let Err(err) = result {
            // Redis is down: at least this instance's streams still get the event.
            tracing::warn!(
                error = format!("{err:#}"),
                "redis publish failed; delivering locally"
            );
            for user in users {
                self.dispatch(*user, frame);
            }
        }
    }

    /// Sends an event to every stream of each user, on every instance.
    pub async fn publish(&self, users: &[Uuid], event: &StreamEventsResponse) {
        let mut frame = vec![KIND_EVENT];
        event.encode(&mut frame).unwrap_or_default();
        self.publish_frames(users, &frame).await;
    }

    /// Ends the user's streams of one session (every session when empty), everywhere.
    pub async fn revoke(&self, user: Uuid, session_id: &str) {
        let mut frame = vec![KIND_REVOKE];
        frame.extend_from_slice(session_id.as_bytes());
        self.publish_frames(&[user], &frame).await;
    }

    fn dispatch(&self, user: Uuid, frame: &[u8]) {
        match frame.split_first() {
            Some((&KIND_EVENT, body)) => match StreamEventsResponse::decode(body) {
                Ok(event) => self.deliver_local(user, &event),
                Err(err) => tracing::warn!(error = %err, "undecodable live frame"),
            },
            Some((&KIND_REVOKE, body)) => self.revoke_local(user, &String::from_utf8_lossy(body)),
            _ => tracing::warn!("unknown live frame"),
        }
    }

    /// Connects to Redis and pattern-subscribes to every user channel.
    async fn connect(&self) -> redis::RedisResult<PubSub> {
        let mut pubsub = self.inner.redis.get_async_pubsub().await?;
        pubsub
            .psubscribe(format!("{}live:*", self.inner.prefix))
            .await?;
        Ok(pubsub)
    }

    /// Connects and subscribes, retrying with backoff until it succeeds.
    async fn connect_retrying(&self) -> PubSub {
        let mut backoff = Duration::from_millis(100);
        loop {
            match tokio::time::timeout(Duration::from_secs(2), self.connect()).await {
                Ok(Ok(pubsub)) => return pubsub,
                Ok(Err(err)) => tracing::warn!(error = %err, "redis subscribe failed; retrying"),
                Err(_) => tracing::warn!("redis subscribe timed out; retrying"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }

    /// The subscription to every user channel, retried for up to `wait`; `None` when
    /// Redis could not be reached by then. Frames arriving before `run_subscriber` reads
    /// them are buffered by the connection.
    pub async fn subscribe(&self, wait: Duration) -> Option<PubSub> {
        tokio::time::timeout(wait, self.connect_retrying())
            .await
            .ok()
    }

    /// Receives every user channel until `stop`, starting with `subscription` (from
    /// `subscribe`) when there is one and reconnecting after Redis failures.
    pub async fn run_subscriber(
        self,
        mut stop: futures::future::BoxFuture<'static, ()>,
        mut subscription: Option<PubSub>,
    ) {
        loop {
            let mut pubsub = match subscription.take() {
                Some(pubsub) => pubsub,
                None => tokio::select! {
                    _ = &mut stop => return,
                    pubsub = self.connect_retrying() => pubsub,
                },
            };
            tracing::info!("live subscriber connected");
            let prefix_len = self.channel(Uuid::nil()).len() - Uuid::nil().to_string().len();
            let mut messages = pubsub.on_message();
            loop {
                let message = tokio::select! {
                    _ = &mut stop => return,
                    m = messages.next() => m,
                };
                let Some(message) = message else { break };
                let channel = message.get_channel_name();
                let Some(user) = channel
                    .get(prefix_len..)
                    .and_then(|id| Uuid::parse_str(id).ok())
                else {
                    continue;
                };
                self.dispatch(user, message.get_payload_bytes());
            }
            tracing::warn!("live subscriber lost its redis connection; reconnecting");
        }
    }
}

impl Ending {
    /// The error a server-ended stream closes with (`grpc.rs` turns it into the status).
    pub fn error(&self) -> ApiError {
        match self {
            Ending::SlowConsumer => ApiError::exhausted(
                "SLOW_CONSUMER",
                "the client fell too far behind the event stream",
            ),
            Ending::Revoked => {
                ApiError::unauthenticated("TOKEN_REVOKED", "the session was revoked")
            }
            Ending::Expired => ApiError::unauthenticated(
                "TOKEN_EXPIRED",
                "the access token expired; reconnect with a fresh one",
            ),
            Ending::Draining => {
                ApiError::unavailable("DRAINING", "the server is shutting down; reconnect")
            }
        }
    }
}
