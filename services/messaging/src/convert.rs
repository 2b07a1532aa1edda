//! Rows to wire types. Summaries come from the local user replica (handles learned from
//! user events); an unknown user still gets a summary with its id.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::domain;
use crate::store::notifications::NotificationRow;
use crate::store::{ConversationRow, MessageRow, ParticipantRow, Role, user_replica};

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_ts(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
}

/// Summaries of `ids` (known or not).
pub async fn summaries(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, UserSummary>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let known = user_replica::summaries(conn, &ids).await?;
    let mut out: HashMap<Uuid, UserSummary> = ids
        .iter()
        .map(|id| {
            (
                *id,
                UserSummary {
                    user_id: id.to_string(),
                    ..Default::default()
                },
            )
        })
        .collect();
    for (id, handle, is_trainer) in known {
        out.insert(
            id,
            UserSummary {
                user_id: id.to_string(),
                display_name: handle.clone(),
                handle,
                is_trainer,
                ..Default::default()
            },
        );
    }
    Ok(out)
}

pub fn summary(map: &HashMap<Uuid, UserSummary>, id: Uuid) -> UserSummary {
    map.get(&id).cloned().unwrap_or_else(|| UserSummary {
        user_id: id.to_string(),
        ..Default::default()
    })
}

pub fn role(role: Role) -> pb::MemberRole {
    match role {
        Role::Owner => pb::MemberRole::Owner,
        Role::Admin => pb::MemberRole::Admin,
        Role::Member => pb::MemberRole::Member,
    }
}

pub fn message(row: &MessageRow, users: &HashMap<Uuid, UserSummary>) -> pb::Message {
    pb::Message {
        message_id: row.id.to_string(),
        conversation_id: row.conversation_id.to_string(),
        sender: Some(summary(users, row.sender_id)),
        text: row.text.clone(),
        media_url: row.media_url.clone(),
        create_time: Some(ts(row.created_at)),
    }
}

pub fn participant(row: &ParticipantRow, users: &HashMap<Uuid, UserSummary>) -> pb::Participant {
    pb::Participant {
        user: Some(summary(users, row.user_id)),
        role: role(row.role) as i32,
        last_read_message_id: row
            .last_read_message_id
            .map(|m| m.to_string())
            .unwrap_or_default(),
        join_time: Some(ts(row.joined_at)),
    }
}

pub fn receipt(row: &ParticipantRow) -> pb::ReadReceipt {
    pb::ReadReceipt {
        conversation_id: row.conversation_id.to_string(),
        user_id: row.user_id.to_string(),
        last_read_message_id: row
            .last_read_message_id
            .map(|m| m.to_string())
            .unwrap_or_default(),
        read_time: row.read_at.map(ts),
    }
}

/// The conversation as `viewer` sees it; `participants` in list order.
pub fn conversation(
    row: &ConversationRow,
    participants: &[ParticipantRow],
    viewer_role: Role,
    unread: i64,
    users: &HashMap<Uuid, UserSummary>,
) -> pb::Conversation {
    let kind = match row.kind {
        crate::store::Kind::Direct => pb::ConversationType::Direct,
        crate::store::Kind::Group => pb::ConversationType::Group,
    };
    pb::Conversation {
        conversation_id: row.id.to_string(),
        r#type: kind as i32,
        name: row.name.clone(),
        description: row.description.clone(),
        image_url: row.image_url.clone(),
        participants: participants
            .iter()
            .take(20)
            .map(|p| participant(p, users))
            .collect(),
        member_count: row.member_count,
        viewer_role: role(viewer_role) as i32,
        last_message: row.last_message.as_ref().map(|m| pb::MessagePreview {
            message_id: m.id.to_string(),
            sender: Some(summary(users, m.sender_id)),
            text: domain::preview(&m.text),
            has_media: !m.media_url.is_empty(),
            create_time: Some(ts(m.created_at)),
        }),
        unread_count: unread.min(i32::MAX as i64) as i32,
        create_time: Some(ts(row.created_at)),
        update_time: Some(ts(row.last_activity_at)),
    }
}

pub fn notification(row: &NotificationRow, users: &HashMap<Uuid, UserSummary>) -> pb::Notification {
    pb::Notification {
        notification_id: row.id.to_string(),
        r#type: row.kind as i32,
        actors: row
            .actor_ids
            .iter()
            .rev()
            .take(3)
            .map(|id| summary(users, *id))
            .collect(),
        actor_count: row.actor_ids.len() as i32,
        post_id: row.post_id.clone(),
        comment_id: row.comment_id.clone(),
        conversation_id: row.conversation_id.clone(),
        text: row.text.clone(),
        read: row.read,
        create_time: Some(ts(row.created_at)),
        update_time: Some(ts(row.updated_at)),
    }
}
