//! Stored rows to wire messages: a post as a given viewer may see it (locked previews,
//! moderation fields only for the privileged), comments, reports and timestamps.

use chrono::{DateTime, Utc};
use tribe_proto::content::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::domain::{self, MediaItem, PREVIEW_CHARS, PostKind, Viewer};
use crate::store::posts::PostRow;

pub fn timestamp(at: DateTime<Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    })
}

/// A summary carrying only the id, when the user service cannot be reached.
pub fn bare_summary(id: Uuid) -> UserSummary {
    UserSummary {
        user_id: id.to_string(),
        ..Default::default()
    }
}

fn media(raw: &str, locked: bool) -> Vec<pb::Media> {
    let items: Vec<MediaItem> = serde_json::from_str(raw).unwrap_or_default();
    items
        .into_iter()
        .enumerate()
        .map(|(i, m)| pb::Media {
            media_id: m.id,
            r#type: m.kind,
            url: if locked { String::new() } else { m.url },
            position: i as i32,
            width: m.width,
            height: m.height,
            duration: m.duration_ms.map(|ms| prost_types::Duration {
                seconds: ms / 1000,
                nanos: ((ms % 1000) * 1_000_000) as i32,
            }),
            thumbnail_url: if locked {
                String::new()
            } else {
                m.thumbnail_url
            },
        })
        .collect()
}

/// `row` as `viewer` sees it.
pub fn post(row: PostRow, viewer: &Viewer, author: UserSummary) -> pb::Post {
    let PostRow {
        id,
        author_id,
        text,
        tags,
        mentions: _,
        kind,
        visibility,
        media: media_json,
        like_count,
        comment_count,
        moderation,
        moderation_reason,
        edited,
        created_at,
        updated_at,
        liked_by_me,
    } = row;
    let locked = kind == PostKind::Premium && !viewer.premium_for(author_id);
    let privileged = viewer.privileged || viewer.id == author_id;
    pb::Post {
        post_id: id.to_string(),
        author: Some(author),
        text: if locked {
            domain::preview(&text, PREVIEW_CHARS)
        } else {
            text
        },
        tags,
        r#type: kind.number(),
        visibility: visibility.number(),
        media: media(&media_json, locked),
        like_count,
        comment_count,
        liked_by_me,
        moderation_state: if privileged { moderation.number() } else { 0 },
        moderation_reason: if privileged {
            moderation_reason
        } else {
            String::new()
        },
        create_time: timestamp(created_at),
        update_time: timestamp(updated_at),
        edited,
        locked,
    }
}
