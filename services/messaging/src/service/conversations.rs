//! Conversations: opening a direct one, reading one, the inbox; typing and presence.

use std::collections::HashMap;

use chrono::Utc;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use uuid::Uuid;

use super::*;
use crate::store::user_replica;

impl Messaging {
    pub async fn create_conversation(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateConversationRequest,
    ) -> Result<pb::CreateConversationResponse, ApiError> {
        let me = caller.id();
        let other = tribe_kit::ids::parse_id("user_id", &req.user_id)?;
        if other == me {
            return Err(ApiError::invalid_reason(
                "CANNOT_MESSAGE_SELF",
                "user_id",
                "cannot open a conversation with yourself",
            ));
        }
        self.check_blocks(me, other).await?;
        self.ensure_users_exist(&[other]).await?;
        let (row, created) = self
            .d
            .store
            .open_direct(Uuid::now_v7(), me, other, now())
            .await
            .map_err(internal)?;
        if created {
            let payload = Payload::ConversationCreated(ev::ConversationCreated {
                conversation_id: row.id.to_string(),
                creator_id: me.to_string(),
                participant_ids: vec![me.to_string(), other.to_string()],
                is_group: false,
            });
            self.emit(row.id, me, payload, None).await?;
            self.push_views(row.id, Some(me)).await?;
        }
        let mine = self
            .d
            .store
            .participant(row.id, me)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        Ok(pb::CreateConversationResponse {
            conversation: Some(self.view(&row, &mine).await?),
        })
    }

    /// NOT_FOUND when `other` blocked `me`; FAILED_PRECONDITION BLOCKED when `me`
    /// blocked `other`.
    pub(super) async fn check_blocks(&self, me: Uuid, other: Uuid) -> Result<(), ApiError> {
        let mut conn = self.d.pool.acquire().await?;
        if user_replica::is_blocked(&mut conn, other, me).await? {
            return Err(ApiError::not_found("user"));
        }
        if user_replica::is_blocked(&mut conn, me, other).await? {
            return Err(ApiError::failed_precondition(
                "BLOCKED",
                "you blocked this user",
            ));
        }
        Ok(())
    }

    pub async fn get_conversation(
        &self,
        caller: &UserPrincipal,
        req: pb::GetConversationRequest,
    ) -> Result<pb::GetConversationResponse, ApiError> {
        let me = caller.id();
        let id = tribe_kit::ids::parse_id("conversation_id", &req.conversation_id)?;
        let (row, mine) = self.membership(id, me).await?;
        Ok(pb::GetConversationResponse {
            conversation: Some(self.view(&row, &mine).await?),
        })
    }

    pub(super) async fn inbox_page(
        &self,
        caller: &UserPrincipal,
        method: &str,
        page_size: i32,
        page_token: &str,
        groups_only: bool,
    ) -> Result<(Vec<pb::Conversation>, String), ApiError> {
        let me = caller.id();
        let limit = page::page_size(page_size)? as usize;
        let hash = FilterHash::new().finish();
        let scope = PageScope {
            method,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = page::time_id_cursor(self.d.pages.decode(scope, page_token)?)?;
        let mut rows = self
            .d
            .store
            .inbox(me, after, limit + 1, groups_only)
            .await
            .map_err(internal)?;
        let next = self.d.pages.next_token(scope, &mut rows, limit, |r| {
            page::time_id_keys(r.conversation.last_activity_at, r.conversation.id)
        });
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.view(&r.conversation, &r.me).await?);
        }
        Ok((out, next))
    }

    pub async fn list_conversations(
        &self,
        caller: &UserPrincipal,
        req: pb::ListConversationsRequest,
    ) -> Result<pb::ListConversationsResponse, ApiError> {
        let (conversations, next_page_token) = self
            .inbox_page(
                caller,
                "ListConversations",
                req.page_size,
                &req.page_token,
                false,
            )
            .await?;
        Ok(pb::ListConversationsResponse {
            conversations,
            next_page_token,
        })
    }

    pub async fn set_typing(
        &self,
        caller: &UserPrincipal,
        req: pb::SetTypingRequest,
    ) -> Result<pb::SetTypingResponse, ApiError> {
        let me = caller.id();
        let conversation = tribe_kit::ids::parse_id("conversation_id", &req.conversation_id)?;
        self.membership(conversation, me).await?;
        let broadcast = match self.d.ephemeral.typing(conversation, me, req.typing).await {
            Ok(changed) => changed,
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "typing state unavailable; broadcasting anyway"
                );
                true
            }
        };
        if broadcast {
            let others: Vec<Uuid> = self
                .d
                .store
                .participants(conversation)
                .await
                .map_err(internal)?
                .iter()
                .map(|p| p.user_id)
                .filter(|u| *u != me)
                .collect();
            let users = self.summaries(&[me]).await?;
            let expire = Utc::now()
                + chrono::Duration::from_std(crate::live::ephemeral::TYPING_TTL)
                    .unwrap_or_default();
            let typing = pb::TypingIndicator {
                conversation_id: conversation.to_string(),
                user: Some(convert::summary(&users, me)),
                typing: req.typing,
                expire_time: req.typing.then(|| convert::ts(expire)),
            };
            self.d
                .hub
                .publish(
                    &others,
                    &pb::StreamEventsResponse {
                        event: Some(Event::Typing(typing)),
                    },
                )
                .await;
        }
        Ok(pb::SetTypingResponse {})
    }

    pub async fn batch_get_presence(
        &self,
        caller: &UserPrincipal,
        req: pb::BatchGetPresenceRequest,
    ) -> Result<pb::BatchGetPresenceResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        if req.user_ids.is_empty() || req.user_ids.len() > 100 {
            v.add("user_ids", "must list 1-100 ids");
        }
        let mut ids: Vec<Uuid> = Vec::new();
        for (i, raw) in req.user_ids.iter().enumerate() {
            if let Some(id) = parse_id(&mut v, &format!("user_ids[{i}]"), raw)
                && !ids.contains(&id)
            {
                ids.push(id);
            }
        }
        v.finish()?;
        let contacts = self.d.store.direct_contacts(me).await.map_err(internal)?;
        let visible: Vec<Uuid> = ids
            .iter()
            .copied()
            .filter(|id| contacts.contains(id) || *id == me)
            .collect();
        let known = match self.d.ephemeral.presence(&visible).await {
            Ok(map) => map,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "presence unavailable");
                HashMap::new()
            }
        };
        let presences = ids
            .iter()
            .map(|id| {
                let (online, seen) = known.get(id).copied().unwrap_or((false, None));
                pb::Presence {
                    user_id: id.to_string(),
                    online,
                    last_seen_time: seen.map(convert::ts),
                }
            })
            .collect();
        Ok(pb::BatchGetPresenceResponse { presences })
    }
}
