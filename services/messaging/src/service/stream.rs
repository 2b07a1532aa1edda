//! StreamEvents: one bounded queue per open stream, fed by the hub; presence while open.

use std::pin::Pin;

use chrono::Utc;
use futures::Stream;
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use uuid::Uuid;

use super::*;
use crate::live::{Ending, Subscription};

/// The caller's events; a server-ended stream closes with its `Ending`'s error.
pub type EventStream =
    Pin<Box<dyn Stream<Item = Result<pb::StreamEventsResponse, ApiError>> + Send>>;

fn heartbeat() -> pb::StreamEventsResponse {
    pb::StreamEventsResponse {
        event: Some(Event::Heartbeat(pb::Heartbeat {
            server_time: Some(convert::ts(Utc::now())),
        })),
    }
}

/// Marks the user offline (when this was their last stream) once the stream is dropped.
struct PresenceGuard {
    svc: Messaging,
    user: Uuid,
    key: String,
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let (svc, user, key) = (self.svc.clone(), self.user, std::mem::take(&mut self.key));
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                match svc.d.ephemeral.stream_closed(user, &key).await {
                    Ok(0) => svc.announce_presence(user, false).await,
                    Ok(_) => {}
                    Err(err) => tracing::warn!(
                        error = format!("{err:#}"),
                        "presence not updated on stream close"
                    ),
                }
            });
        }
    }
}

struct State {
    sub: Subscription,
    expiry: Pin<Box<tokio::time::Sleep>>,
    tick: tokio::time::Interval,
    first: bool,
    done: bool,
    presence: PresenceGuard,
}

impl Messaging {
    /// Tells the user's direct contacts that they came online or went offline.
    async fn announce_presence(&self, user: Uuid, online: bool) {
        let contacts = match self.d.store.direct_contacts(user).await {
            Ok(c) => c,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "presence contacts unavailable");
                return;
            }
        };
        let presence = pb::Presence {
            user_id: user.to_string(),
            online,
            last_seen_time: (!online).then(|| convert::ts(Utc::now())),
        };
        self.d
            .hub
            .publish(
                &contacts,
                &pb::StreamEventsResponse {
                    event: Some(Event::Presence(presence)),
                },
            )
            .await;
    }

    /// Opens the caller's stream; it ends by itself when the access token it was opened
    /// with expires (the verified `exp` the auth layer put in the principal).
    pub async fn stream_events(&self, caller: &UserPrincipal) -> Result<EventStream, ApiError> {
        let me = caller.id();
        if self.d.hub.is_draining() {
            return Err(ApiError::unavailable(
                "DRAINING",
                "the server is shutting down; reconnect",
            ));
        }
        let open = match self.d.ephemeral.stream_count(me).await {
            Ok(n) => n,
            Err(_) => self.d.hub.local_count(me) as u64,
        };
        if open >= self.d.limits.max_streams_per_user {
            return Err(ApiError::exhausted(
                "TOO_MANY_STREAMS",
                "too many open event streams",
            ));
        }
        let sub = self.d.hub.register(me, &caller.session_id);
        let key = Uuid::new_v4().to_string();
        match self.d.ephemeral.stream_alive(me, &key).await {
            Ok(1) => self.announce_presence(me, true).await,
            Ok(_) => {}
            Err(err) => tracing::warn!(error = format!("{err:#}"), "presence unavailable"),
        }
        let period = self.d.heartbeat;
        let mut tick = interval_at(Instant::now() + period, period);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let left = (caller.expires_at - Utc::now())
            .to_std()
            .unwrap_or_default();
        let expiry = Box::pin(tokio::time::sleep(left));
        let state = State {
            sub,
            expiry,
            tick,
            first: true,
            done: false,
            presence: PresenceGuard {
                svc: self.clone(),
                user: me,
                key,
            },
        };
        let stream = futures::stream::unfold(state, |mut st| async move {
            if st.done {
                return None;
            }
            if st.first {
                st.first = false;
                return Some((Ok(heartbeat()), st));
            }
            loop {
                tokio::select! {
                    biased;
                    changed = st.sub.ended.changed() => {
                        let ending = st.sub.ended.borrow().clone();
                        match (ending, changed) {
                            (Some(ending), _) => {
                                st.done = true;
                                return Some((Err(ending.error()), st));
                            }
                            (None, Err(_)) => return None,
                            (None, Ok(())) => continue,
                        }
                    }
                    _ = st.expiry.as_mut() => {
                        st.done = true;
                        return Some((Err(Ending::Expired.error()), st));
                    }
                    event = st.sub.events.recv() => match event {
                        Some(event) => {
                            st.tick.reset();
                            return Some((Ok(event), st));
                        }
                        None => {
                            let ending = st.sub.ended.borrow().clone();
                            st.done = true;
                            return ending.map(|e| (Err(e.error()), st));
                        }
                    },
                    _ = st.tick.tick() => {
                        let (svc, user, key) = (st.presence.svc.clone(), st.presence.user, st.presence.key.clone());
                        tokio::spawn(async move {
                            if let Err(err) = svc.d.ephemeral.stream_alive(user, &key).await {
                                tracing::debug!(error = format!("{err:#}"), "presence heartbeat failed");
                            }
                        });
                        return Some((Ok(heartbeat()), st));
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }
}
