//! Use-cases of the messaging service, over the `MessageStore`, the PostgreSQL side
//! tables (outbox, idempotency, notifications, user replica), Redis ephemeral state and
//! the live hub.

mod conversations;
mod group_members;
mod groups;
mod messages;
pub(crate) mod notifications;
mod stream;

pub use stream::EventStream;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tribe_kit::ApiError;
use tribe_kit::page::PageTokens;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::config::Limits;
use crate::convert;
use crate::live::Hub;
use crate::live::ephemeral::Ephemeral;
use crate::store::{ConversationRow, MessageStore, ParticipantRow, Role};

/// Logical topic of messaging events.
pub const TOPIC: &str = "tribe.messaging.v1";
pub const PRODUCER: &str = "messaging";
/// Unread counts are exact up to this many per conversation.
pub const UNREAD_CAP: i64 = 10_000;

pub struct Deps {
    /// The user service, when configured: existence checks and full summaries.
    pub users: Option<crate::user_client::UserClient>,
    pub pool: PgPool,
    pub store: Arc<dyn MessageStore>,
    pub pages: PageTokens,
    pub hub: Hub,
    pub ephemeral: Ephemeral,
    pub limits: Limits,
    pub heartbeat: Duration,
}

#[derive(Clone)]
pub struct Messaging {
    d: Arc<Deps>,
    /// Striped per-conversation locks: a send takes its id, stores and publishes under
    /// one, so this instance publishes a conversation's messages in id order; removals
    /// take it too, so no message is published to a member after their removal.
    send_locks: Arc<Vec<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Messaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Messaging").finish_non_exhaustive()
    }
}

/// The current time at the storage precision (microseconds), so a stored value reads
/// back equal to what was returned when it was written.
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    let t = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

fn internal(err: anyhow::Error) -> ApiError {
    ApiError::internal(err)
}

fn not_found() -> ApiError {
    ApiError::not_found("conversation")
}

impl Messaging {
    pub fn new(deps: Deps) -> Self {
        Self {
            d: Arc::new(deps),
            send_locks: Arc::new((0..64).map(|_| tokio::sync::Mutex::new(())).collect()),
        }
    }

    fn send_lock(&self, conversation: Uuid) -> &tokio::sync::Mutex<()> {
        let stripe = (conversation.as_u128() % self.send_locks.len() as u128) as usize;
        &self.send_locks[stripe]
    }

    pub fn hub(&self) -> &Hub {
        &self.d.hub
    }

    async fn summaries(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, UserSummary>, ApiError> {
        let mut conn = self.d.pool.acquire().await?;
        let mut out = convert::summaries(&mut conn, ids).await?;
        drop(conn);
        if let Some(users) = &self.d.users {
            match users.summaries(ids).await {
                Ok(found) => out.extend(found),
                Err(err) => tracing::warn!(
                    error = format!("{err:#}"),
                    "user summaries unavailable; using the local view"
                ),
            }
        }
        Ok(out)
    }

    /// NOT_FOUND when the user service says one of `ids` does not exist. Without a
    /// configured user service, or while it is unreachable, ids are accepted.
    async fn ensure_users_exist(&self, ids: &[Uuid]) -> Result<(), ApiError> {
        let Some(users) = &self.d.users else {
            return Ok(());
        };
        match users.summaries(ids).await {
            Ok(found) if ids.iter().all(|id| found.contains_key(id)) => Ok(()),
            Ok(_) => Err(ApiError::not_found("user")),
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "user service unavailable; accepting the user ids"
                );
                Ok(())
            }
        }
    }

    /// The conversation and the caller's membership; NOT_FOUND for anyone but a current
    /// participant, exactly as for an id that does not exist.
    async fn membership(
        &self,
        conversation: Uuid,
        user: Uuid,
    ) -> Result<(ConversationRow, ParticipantRow), ApiError> {
        let me = self
            .d
            .store
            .participant(conversation, user)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let row = self
            .d
            .store
            .conversation(conversation)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        Ok((row, me))
    }

    /// The conversation as `viewer` sees it.
    async fn view(
        &self,
        row: &ConversationRow,
        me: &ParticipantRow,
    ) -> Result<pb::Conversation, ApiError> {
        let participants = self.d.store.participants(row.id).await.map_err(internal)?;
        let unread = self
            .d
            .store
            .unread_count(row.id, me.user_id, me.last_read_message_id, UNREAD_CAP)
            .await
            .map_err(internal)?;
        let mut ids: Vec<Uuid> = participants.iter().take(20).map(|p| p.user_id).collect();
        ids.extend(row.last_message.as_ref().map(|m| m.sender_id));
        let users = self.summaries(&ids).await?;
        Ok(convert::conversation(
            row,
            &participants,
            me.role,
            unread,
            &users,
        ))
    }

    /// Sends each participant their own view of the conversation.
    async fn push_views(&self, conversation: Uuid, only: Option<Uuid>) -> Result<(), ApiError> {
        let Some(row) = self
            .d
            .store
            .conversation(conversation)
            .await
            .map_err(internal)?
        else {
            return Ok(());
        };
        for p in self
            .d
            .store
            .participants(conversation)
            .await
            .map_err(internal)?
        {
            if only.is_some_and(|u| u != p.user_id) {
                continue;
            }
            let view = self.view(&row, &p).await?;
            let event = pb::StreamEventsResponse {
                event: Some(pb::stream_events_response::Event::Conversation(view)),
            };
            self.d.hub.publish(&[p.user_id], &event).await;
        }
        Ok(())
    }

    /// Writes a messaging event to the outbox. A fixed `event_id` makes the write
    /// idempotent: a retry that finds it already queued changes nothing.
    async fn emit(
        &self,
        aggregate: Uuid,
        actor: Uuid,
        payload: Payload,
        event_id: Option<Uuid>,
    ) -> Result<(), ApiError> {
        let mut conn = self.d.pool.acquire().await?;
        emit_on(&mut conn, aggregate, actor, payload, event_id).await
    }
}

pub(crate) async fn emit_on(
    conn: &mut sqlx::PgConnection,
    aggregate: Uuid,
    actor: Uuid,
    payload: Payload,
    event_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let mut event = tribe_kit::outbox::envelope(
        PRODUCER,
        &aggregate.to_string(),
        &actor.to_string(),
        payload,
    );
    if let Some(id) = event_id {
        event.event_id = id.to_string();
    }
    match tribe_kit::outbox::enqueue(conn, TOPIC, &event).await {
        Err(err) if err.code() == tonic::Code::AlreadyExists => Ok(()),
        other => other,
    }
}

/// A page request inside one conversation: the conversation id and the page size,
/// validated together (both violations in one answer), and the page-token filter hash that
/// binds a token to that conversation.
fn conversation_page(
    conversation_id: &str,
    page_size: i32,
) -> Result<(Uuid, usize, Vec<u8>), ApiError> {
    let mut v = tribe_kit::Violations::new();
    let id = parse_id(&mut v, "conversation_id", conversation_id);
    let limit = v.check(
        "page_size",
        tribe_kit::page::page_size(page_size).map_err(|_| "must not be negative"),
    );
    v.finish()?;
    let (Some(id), Some(limit)) = (id, limit) else {
        return Err(not_found());
    };
    let hash = tribe_kit::page::FilterHash::new()
        .add("conversation_id", id.as_bytes())
        .finish();
    Ok((id, limit as usize, hash))
}

/// Parses a wire id into `violations`, returning it when valid.
fn parse_id(violations: &mut tribe_kit::Violations, field: &str, value: &str) -> Option<Uuid> {
    match tribe_kit::ids::parse_id(field, value) {
        Ok(id) => Some(id),
        Err(tribe_kit::ApiError::InvalidArgument { violations: v, .. }) => {
            for one in v {
                violations.add(one.field, one.description);
            }
            None
        }
        Err(_) => None,
    }
}

fn is_admin(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}
