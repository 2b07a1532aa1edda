//! Messages: sending (idempotent by request id), history, read receipts, search and
//! unread counts.

use std::collections::HashMap;

use chrono::Utc;
use sha2::{Digest, Sha256};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use uuid::Uuid;

use super::*;
use crate::domain::{HttpsUrl, MessageText, SearchQuery};
use crate::live::ephemeral::Action;
use crate::store::notifications::{self as notes, NewNotification};
use crate::store::{Inserted, Kind, MessageRow, NewMessage, user_replica};

fn id_keys(id: Uuid) -> Vec<Key> {
    vec![Key::Str(id.to_string())]
}

fn id_cursor(keys: Option<Vec<Key>>) -> Result<Option<Uuid>, ApiError> {
    match keys.as_deref() {
        None => Ok(None),
        Some([Key::Str(id)]) => Uuid::parse_str(id)
            .map(Some)
            .map_err(|_| ApiError::invalid_field("page_token", "malformed page token")),
        Some(_) => Err(ApiError::invalid_field(
            "page_token",
            "malformed page token",
        )),
    }
}

impl Messaging {
    pub async fn send_message(
        &self,
        caller: &UserPrincipal,
        req: pb::SendMessageRequest,
    ) -> Result<pb::SendMessageResponse, ApiError> {
        let me = caller.id();
        let pb::SendMessageRequest {
            conversation_id,
            text,
            media_url,
            request_id,
        } = req;
        let mut v = Violations::new();
        let conversation = parse_id(&mut v, "conversation_id", &conversation_id);
        let text = v.check("text", MessageText::parse(&text));
        let media_url = v.check("media_url", HttpsUrl::parse(&media_url));
        if let (Some(t), Some(m)) = (&text, &media_url)
            && t.is_empty()
            && m.is_empty()
        {
            v.add("text", "a message needs text or media_url");
        }
        if let Err(ApiError::InvalidArgument { violations, .. }) =
            tribe_kit::ids::parse_request_id(&request_id)
        {
            for one in violations {
                v.add(one.field, one.description);
            }
        }
        v.finish()?;
        let (Some(conversation), Some(text), Some(media_url)) = (conversation, text, media_url)
        else {
            return Err(ApiError::invalid_field("request", "invalid"));
        };

        let (row, _mine) = self.membership(conversation, me).await?;
        let participants = self
            .d
            .store
            .participants(conversation)
            .await
            .map_err(internal)?;
        let recipients: Vec<Uuid> = participants
            .iter()
            .map(|p| p.user_id)
            .filter(|u| *u != me)
            .collect();
        if row.kind == Kind::Direct
            && let Some(other) = recipients.first()
        {
            let mut conn = self.d.pool.acquire().await?;
            if user_replica::is_blocked(&mut conn, me, *other).await?
                || user_replica::is_blocked(&mut conn, *other, me).await?
            {
                return Err(ApiError::failed_precondition(
                    "BLOCKED",
                    "messages between these users are blocked",
                ));
            }
        }
        match self
            .d
            .ephemeral
            .allow(
                Action::SendMessage,
                me,
                self.d.limits.sends_per_window,
                self.d.limits.send_window,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return Err(ApiError::exhausted(
                    "RATE_LIMITED",
                    "too many messages; slow down",
                ));
            }
            // Without Redis the limit cannot be counted; sending stays available.
            Err(err) => tracing::warn!(error = format!("{err:#}"), "rate limit unavailable"),
        }

        let mut hash = Sha256::new();
        hash.update(conversation.as_bytes());
        hash.update((text.as_str().len() as u64).to_be_bytes());
        hash.update(text.as_str().as_bytes());
        hash.update(media_url.as_str().as_bytes());
        let _ordered = self.send_lock(conversation).lock().await;
        let now = now();
        let id = Uuid::now_v7();
        let new = NewMessage {
            message: MessageRow {
                conversation_id: conversation,
                id,
                sender_id: me,
                text: text.into_string(),
                media_url: media_url.into_string(),
                created_at: now,
            },
            request_id,
            request_hash: hash.finalize().to_vec(),
        };
        let (message, fresh) = match self.d.store.insert_message(&new).await.map_err(internal)? {
            Inserted::Fresh(m) => (m, true),
            Inserted::Replayed(m) => (m, false),
            Inserted::Reused => {
                return Err(ApiError::invalid_reason(
                    "REQUEST_ID_REUSED",
                    "request_id",
                    "was already used with different parameters",
                ));
            }
        };
        if message.conversation_id != conversation {
            return Err(ApiError::invalid_reason(
                "REQUEST_ID_REUSED",
                "request_id",
                "was already used with different parameters",
            ));
        }
        // Keyed by the message id, so a retry after a crash queues the event at most once.
        let payload = Payload::MessageSent(ev::MessageSent {
            conversation_id: conversation.to_string(),
            message_id: message.id.to_string(),
            sender_id: me.to_string(),
            recipient_ids: recipients.iter().map(Uuid::to_string).collect(),
            has_media: !message.media_url.is_empty(),
            text_length: message.text.chars().count() as i32,
            is_group: row.kind == Kind::Group,
        });
        self.emit(conversation, me, payload, Some(message.id))
            .await?;
        let users = self.summaries(&[me]).await?;
        let wire = convert::message(&message, &users);
        if fresh {
            self.after_send(&row, me, &recipients, &wire).await?;
        }
        Ok(pb::SendMessageResponse {
            message: Some(wire),
        })
    }

    /// Live delivery, typing reset, unread counters and offline notifications of a new
    /// message. Best effort beyond the stored message: Redis trouble is logged only.
    async fn after_send(
        &self,
        row: &ConversationRow,
        me: Uuid,
        recipients: &[Uuid],
        wire: &pb::Message,
    ) -> Result<(), ApiError> {
        let mut everyone = recipients.to_vec();
        everyone.push(me);
        if row.kind == Kind::Direct && row.last_message.is_none() {
            // The conversation now appears in the other side's inbox.
            self.push_views(row.id, recipients.first().copied()).await?;
        }
        self.d
            .hub
            .publish(
                &everyone,
                &pb::StreamEventsResponse {
                    event: Some(Event::Message(wire.clone())),
                },
            )
            .await;
        if let Ok(true) = self.d.ephemeral.typing(row.id, me, false).await {
            let users = self.summaries(&[me]).await?;
            let typing = pb::TypingIndicator {
                conversation_id: row.id.to_string(),
                user: Some(convert::summary(&users, me)),
                typing: false,
                expire_time: None,
            };
            self.d
                .hub
                .publish(
                    recipients,
                    &pb::StreamEventsResponse {
                        event: Some(Event::Typing(typing)),
                    },
                )
                .await;
        }
        if let Err(err) = self.d.ephemeral.bump_unread(recipients, row.id).await {
            tracing::warn!(
                error = format!("{err:#}"),
                "unread counters not updated; they are rebuilt on the next read"
            );
        }
        let presence = self
            .d
            .ephemeral
            .presence(recipients)
            .await
            .unwrap_or_default();
        let offline: Vec<Uuid> = recipients
            .iter()
            .copied()
            .filter(|u| !presence.get(u).is_some_and(|p| p.0))
            .collect();
        if !offline.is_empty() {
            let mut conn = self.d.pool.acquire().await?;
            for user in offline {
                let note = NewNotification {
                    recipient_id: user,
                    kind: pb::NotificationType::Message,
                    group_key: row.id.to_string(),
                    actor_id: Some(me),
                    conversation_id: row.id.to_string(),
                    ..Default::default()
                };
                notes::upsert(&mut conn, &note, Utc::now()).await?;
            }
        }
        Ok(())
    }

    pub async fn list_messages(
        &self,
        caller: &UserPrincipal,
        req: pb::ListMessagesRequest,
    ) -> Result<pb::ListMessagesResponse, ApiError> {
        let me = caller.id();
        let (conversation, limit, hash) = conversation_page(&req.conversation_id, req.page_size)?;
        self.membership(conversation, me).await?;
        let scope = PageScope {
            method: "ListMessages",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let before = id_cursor(self.d.pages.decode(scope, &req.page_token)?)?;
        let mut rows = self
            .d
            .store
            .list_messages(conversation, before, limit + 1)
            .await
            .map_err(internal)?;
        let next_page_token = self
            .d
            .pages
            .next_token(scope, &mut rows, limit, |m| id_keys(m.id));
        let senders: Vec<Uuid> = rows.iter().map(|m| m.sender_id).collect();
        let users = self.summaries(&senders).await?;
        Ok(pb::ListMessagesResponse {
            messages: rows.iter().map(|m| convert::message(m, &users)).collect(),
            next_page_token,
        })
    }

    pub async fn mark_read(
        &self,
        caller: &UserPrincipal,
        req: pb::MarkReadRequest,
    ) -> Result<pb::MarkReadResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let conversation = parse_id(&mut v, "conversation_id", &req.conversation_id);
        let message = parse_id(&mut v, "message_id", &req.message_id);
        v.finish()?;
        let (Some(conversation), Some(message)) = (conversation, message) else {
            return Err(not_found());
        };
        let (_, before) = self.membership(conversation, me).await?;
        self.d
            .store
            .message(conversation, message)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("message"))?;
        let after = self
            .d
            .store
            .mark_read(conversation, me, message, now())
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        if after.last_read_message_id != before.last_read_message_id {
            let everyone: Vec<Uuid> = self
                .d
                .store
                .participants(conversation)
                .await
                .map_err(internal)?
                .iter()
                .map(|p| p.user_id)
                .collect();
            let event = pb::StreamEventsResponse {
                event: Some(Event::ReadReceipt(convert::receipt(&after))),
            };
            self.d.hub.publish(&everyone, &event).await;
            let unread = self
                .d
                .store
                .unread_count(conversation, me, after.last_read_message_id, UNREAD_CAP)
                .await
                .map_err(internal)?;
            if let Err(err) = self
                .d
                .ephemeral
                .set_unread_one(me, conversation, Some(unread))
                .await
            {
                tracing::warn!(error = format!("{err:#}"), "unread counter not updated");
            }
        }
        Ok(pb::MarkReadResponse {
            read_receipt: Some(convert::receipt(&after)),
        })
    }

    pub async fn search_messages(
        &self,
        caller: &UserPrincipal,
        req: pb::SearchMessagesRequest,
    ) -> Result<pb::SearchMessagesResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let query = v.check("query", SearchQuery::parse(&req.query));
        let conversation = if req.conversation_id.is_empty() {
            None
        } else {
            parse_id(&mut v, "conversation_id", &req.conversation_id)
        };
        let limit = v.check(
            "page_size",
            page::page_size(req.page_size).map_err(|_| "must not be negative"),
        );
        v.finish()?;
        let (Some(query), Some(limit)) = (query, limit) else {
            return Err(ApiError::invalid_field("query", "invalid"));
        };
        let limit = limit as usize;
        let scope_ids = match conversation {
            Some(id) => {
                self.membership(id, me).await?;
                vec![id]
            }
            None => self.d.store.conversation_ids(me).await.map_err(internal)?,
        };
        let hash = FilterHash::new()
            .add("query", query.normalized())
            .add("conversation_id", req.conversation_id.as_bytes())
            .finish();
        let scope = PageScope {
            method: "SearchMessages",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let before = id_cursor(self.d.pages.decode(scope, &req.page_token)?)?;
        let mut rows = self
            .d
            .store
            .search(&scope_ids, query.words(), before, limit + 1)
            .await
            .map_err(internal)?;
        let next_page_token = self
            .d
            .pages
            .next_token(scope, &mut rows, limit, |m| id_keys(m.id));
        let senders: Vec<Uuid> = rows.iter().map(|m| m.sender_id).collect();
        let users = self.summaries(&senders).await?;
        Ok(pb::SearchMessagesResponse {
            messages: rows.iter().map(|m| convert::message(m, &users)).collect(),
            next_page_token,
        })
    }

    /// Unread messages per conversation: from the Redis counters, rebuilt from the store
    /// when missing; straight from the store when Redis is unavailable.
    pub(super) async fn unread_by_conversation(
        &self,
        me: Uuid,
    ) -> Result<HashMap<Uuid, i64>, ApiError> {
        match self.d.ephemeral.unread(me).await {
            Ok(Some(map)) => {
                return Ok(map
                    .into_iter()
                    .filter_map(|(k, v)| Uuid::parse_str(&k).ok().map(|k| (k, v)))
                    .collect());
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "unread counters unavailable; counting in the store"
            ),
        }
        let mut counts = HashMap::new();
        let mut after = None;
        loop {
            let rows = self
                .d
                .store
                .inbox(me, after, 100, false)
                .await
                .map_err(internal)?;
            for r in &rows {
                let n = self
                    .d
                    .store
                    .unread_count(r.conversation.id, me, r.me.last_read_message_id, UNREAD_CAP)
                    .await
                    .map_err(internal)?;
                counts.insert(r.conversation.id, n);
            }
            match rows.last() {
                Some(last) if rows.len() == 100 => {
                    after = Some((last.conversation.last_activity_at, last.conversation.id))
                }
                _ => break,
            }
        }
        if let Err(err) = self.d.ephemeral.set_unread(me, &counts).await {
            tracing::warn!(error = format!("{err:#}"), "unread counters not cached");
        }
        Ok(counts)
    }
}
