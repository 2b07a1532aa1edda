//! TrackEvents: validates a batch of client events, rate limits per user in Redis, and
//! records the new ones with their `ClientEventTracked` events in one transaction (the
//! outbox relay publishes them). The acting user is always the token's subject.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations};
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1::{ClientEventTracked, ClientEventType, event::Payload};

use super::AnalyticsService;
use crate::ingest::TRACKING_TOPIC;
use crate::policy::SERVICE_NAME;
use crate::store;
use crate::time::{datetime, timestamp};

pub const MAX_BATCH: usize = 500;
const MAX_ID_LEN: usize = 64;
/// Oldest accepted event, relative to the receive time.
pub const MAX_AGE: Duration = Duration::days(7);
/// Furthest accepted event in the future, relative to the receive time.
pub const MAX_AHEAD: Duration = Duration::minutes(5);

/// One validated event.
struct Valid {
    client_event_id: String,
    kind: ClientEventType,
    target_id: String,
    occur: DateTime<Utc>,
}

fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// Whether the target of `kind` is a post or a user, whose ids are UUIDs.
fn targets_post(kind: ClientEventType) -> bool {
    matches!(
        kind,
        ClientEventType::ViewPost
            | ClientEventType::SharePost
            | ClientEventType::SavePost
            | ClientEventType::UnsavePost
    )
}

fn targets_user(kind: ClientEventType) -> bool {
    matches!(
        kind,
        ClientEventType::ViewProfile | ClientEventType::ShareProfile
    )
}

/// Validates the whole batch, listing every violation; all or nothing.
fn validate(req: &pb::TrackEventsRequest, now: DateTime<Utc>) -> Result<Vec<Valid>, ApiError> {
    let mut v = Violations::new();
    if req.events.is_empty() {
        v.add("events", "at least one event is required");
    } else if req.events.len() > MAX_BATCH {
        v.add("events", format!("at most {MAX_BATCH} events per batch"));
        return Err(v
            .finish()
            .err()
            .unwrap_or_else(|| ApiError::invalid_field("events", "too many")));
    }
    // The device clock may be off: shift every occur_time by (receive - send).
    let skew = match req.send_time.as_ref().map(datetime) {
        None => Duration::zero(),
        Some(Some(sent)) => now - sent,
        Some(None) => {
            v.add("send_time", "is not a valid timestamp");
            Duration::zero()
        }
    };
    let mut out = Vec::with_capacity(req.events.len());
    for (i, e) in req.events.iter().enumerate() {
        let field = |name: &str| format!("events[{i}].{name}");
        if !valid_client_id(&e.client_event_id) {
            v.add(
                field("client_event_id"),
                "must be 1-64 characters of A-Z a-z 0-9 _ . : -",
            );
        }
        let kind = ClientEventType::try_from(e.r#type)
            .ok()
            .filter(|k| *k != ClientEventType::Unspecified);
        if kind.is_none() {
            v.add(
                field("type"),
                "is required and must be a known ClientEventType",
            );
        }
        if e.target_id.is_empty() || e.target_id.len() > MAX_ID_LEN {
            v.add(field("target_id"), "must be 1-64 characters");
        } else if kind.is_some_and(|k| targets_post(k) || targets_user(k))
            && uuid::Uuid::try_parse(&e.target_id).is_err()
        {
            v.add(field("target_id"), "is not a valid post or user id");
        }
        let occur = match e.occur_time.as_ref().map(datetime) {
            None => {
                v.add(field("occur_time"), "is required");
                None
            }
            Some(None) => {
                v.add(field("occur_time"), "is not a valid timestamp");
                None
            }
            Some(Some(t)) => {
                let t = t + skew;
                if t < now - MAX_AGE {
                    v.add(field("occur_time"), "is more than 7 days old");
                    None
                } else if t > now + MAX_AHEAD {
                    v.add(field("occur_time"), "is more than 5 minutes in the future");
                    None
                } else {
                    Some(t)
                }
            }
        };
        if let (Some(kind), Some(occur)) = (kind, occur) {
            out.push(Valid {
                client_event_id: e.client_event_id.clone(),
                kind,
                target_id: e.target_id.clone(),
                occur,
            });
        }
    }
    v.finish()?;
    Ok(out)
}

impl AnalyticsService {
    /// Counts `n` events against the caller's per-minute budget. Tracking is best effort:
    /// an unreachable limiter admits the batch rather than drop events.
    async fn admit(&self, user_id: &str, n: u64, now: DateTime<Utc>) -> Result<(), ApiError> {
        match self.throttle.add(user_id, n, now).await {
            Ok(used) if used > self.track_events_per_minute => Err(ApiError::exhausted(
                "TRACKING_RATE_LIMITED",
                format!(
                    "at most {} tracked events per minute",
                    self.track_events_per_minute
                ),
            )),
            Ok(_) => Ok(()),
            Err(err) => {
                tracing::warn!(error = %err, "tracking rate limiter unavailable; admitting the batch");
                Ok(())
            }
        }
    }

    pub async fn track_events(
        &self,
        caller: &UserPrincipal,
        req: pb::TrackEventsRequest,
        now: DateTime<Utc>,
    ) -> Result<pb::TrackEventsResponse, ApiError> {
        let events = validate(&req, now)?;
        let user = caller.subject();
        self.admit(user, events.len() as u64, now).await?;
        let mut tx = self.pool.begin().await?;
        let mut in_batch = HashSet::new();
        let (mut accepted, mut duplicates) = (0i32, 0i32);
        for e in &events {
            if !in_batch.insert(e.client_event_id.as_str())
                || !store::track::accept(&mut tx, user, &e.client_event_id).await?
            {
                duplicates += 1;
                continue;
            }
            let owner = if targets_post(e.kind) {
                store::post_author(&mut tx, &e.target_id)
                    .await?
                    .unwrap_or_default()
            } else if targets_user(e.kind) {
                e.target_id.clone()
            } else {
                String::new()
            };
            let payload = Payload::ClientEventTracked(ClientEventTracked {
                client_event_id: e.client_event_id.clone(),
                user_id: user.to_string(),
                r#type: e.kind as i32,
                target_id: e.target_id.clone(),
                target_owner_id: owner,
                occur_time: Some(timestamp(e.occur)),
                receive_time: Some(timestamp(now)),
            });
            let event = tribe_kit::outbox::envelope(SERVICE_NAME, user, user, payload);
            tribe_kit::outbox::enqueue(&mut tx, TRACKING_TOPIC, &event).await?;
            accepted += 1;
        }
        tx.commit().await?;
        Ok(pb::TrackEventsResponse {
            accepted_count: accepted,
            duplicate_count: duplicates,
        })
    }
}
