//! Notifications: listing, marking read, badge counts; and creating them from events.

use chrono::Utc;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::messaging::v1 as pb;
use uuid::Uuid;

use super::*;
use crate::store::notifications::{self as notes, NewNotification};

impl Messaging {
    pub async fn list_notifications(
        &self,
        caller: &UserPrincipal,
        req: pb::ListNotificationsRequest,
    ) -> Result<pb::ListNotificationsResponse, ApiError> {
        let me = caller.id();
        let limit = page::page_size(req.page_size)? as usize;
        let hash = FilterHash::new()
            .add("unread_only", [u8::from(req.unread_only)])
            .finish();
        let scope = PageScope {
            method: "ListNotifications",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = page::time_id_cursor(self.d.pages.decode(scope, &req.page_token)?)?;
        let mut conn = self.d.pool.acquire().await?;
        let mut rows = notes::list(&mut conn, me, req.unread_only, after, limit + 1).await?;
        let next_page_token = self.d.pages.next_token(scope, &mut rows, limit, |n| {
            page::time_id_keys(n.updated_at, n.id)
        });
        drop(conn);
        let actors: Vec<Uuid> = rows
            .iter()
            .flat_map(|n| n.actor_ids.iter().rev().take(3).copied())
            .collect();
        let users = self.summaries(&actors).await?;
        Ok(pb::ListNotificationsResponse {
            notifications: rows
                .iter()
                .map(|n| convert::notification(n, &users))
                .collect(),
            next_page_token,
        })
    }

    pub async fn mark_notifications_read(
        &self,
        caller: &UserPrincipal,
        req: pb::MarkNotificationsReadRequest,
    ) -> Result<pb::MarkNotificationsReadResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        match (&req.up_to_time, req.notification_ids.is_empty()) {
            (Some(_), false) | (None, true) => v.add(
                "notification_ids",
                "set exactly one of up_to_time and notification_ids",
            ),
            _ => {}
        }
        if req.notification_ids.len() > 100 {
            v.add("notification_ids", "at most 100 ids");
        }
        let ids: Vec<Uuid> = req
            .notification_ids
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| parse_id(&mut v, &format!("notification_ids[{i}]"), raw))
            .collect();
        let up_to = req
            .up_to_time
            .as_ref()
            .map(|t| convert::from_ts(t).ok_or("is not a valid time"));
        let up_to = match up_to {
            Some(r) => v.check("up_to_time", r),
            None => None,
        };
        v.finish()?;
        let mut conn = self.d.pool.acquire().await?;
        match up_to {
            Some(at) => notes::mark_read_up_to(&mut conn, me, at).await?,
            None => notes::mark_read_ids(&mut conn, me, &ids).await?,
        };
        drop(conn);
        Ok(pb::MarkNotificationsReadResponse {
            unread_counts: Some(self.counts(me).await?),
        })
    }

    pub async fn get_unread_counts(
        &self,
        caller: &UserPrincipal,
        _req: pb::GetUnreadCountsRequest,
    ) -> Result<pb::GetUnreadCountsResponse, ApiError> {
        let me = caller.id();
        Ok(pb::GetUnreadCountsResponse {
            unread_counts: Some(self.counts(me).await?),
        })
    }

    async fn counts(&self, me: Uuid) -> Result<pb::UnreadCounts, ApiError> {
        let by_conversation = self.unread_by_conversation(me).await?;
        let mut conn = self.d.pool.acquire().await?;
        let notifications = notes::unread_count(&mut conn, me).await?;
        let clamp = |n: i64| n.clamp(0, i32::MAX as i64) as i32;
        Ok(pb::UnreadCounts {
            unread_conversation_count: clamp(
                by_conversation.values().filter(|n| **n > 0).count() as i64
            ),
            unread_message_count: clamp(by_conversation.values().sum()),
            unread_notification_count: clamp(notifications),
        })
    }
}

/// Stores a notification inside the consumer's transaction and pushes it live.
pub async fn notify(
    conn: &mut sqlx::PgConnection,
    hub: &crate::live::Hub,
    note: &NewNotification,
) -> anyhow::Result<()> {
    if note.actor_id == Some(note.recipient_id) {
        return Ok(());
    }
    let row = notes::upsert(conn, note, Utc::now()).await?;
    let actors: Vec<Uuid> = row.actor_ids.iter().rev().take(3).copied().collect();
    let users = convert::summaries(conn, &actors).await?;
    let event = pb::StreamEventsResponse {
        event: Some(pb::stream_events_response::Event::Notification(
            convert::notification(&row, &users),
        )),
    };
    hub.publish(&[note.recipient_id], &event).await;
    Ok(())
}
