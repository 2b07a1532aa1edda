//! Trainer-client relationships as proto messages.

use std::collections::HashMap;

use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use super::timestamp;
use crate::store::coaching::{CoachingRow, CoachingState};

pub fn status(state: CoachingState) -> pb::CoachingStatus {
    match state {
        CoachingState::Pending => pb::CoachingStatus::Pending,
        CoachingState::Active => pb::CoachingStatus::Active,
        CoachingState::Ended => pb::CoachingStatus::Ended,
    }
}

fn summary(summaries: &HashMap<Uuid, UserSummary>, id: Uuid) -> UserSummary {
    summaries.get(&id).cloned().unwrap_or_else(|| UserSummary {
        user_id: id.to_string(),
        ..Default::default()
    })
}

/// A relationship with its two sides' summaries.
pub fn coaching(row: &CoachingRow, summaries: &HashMap<Uuid, UserSummary>) -> pb::Coaching {
    pb::Coaching {
        coaching_id: row.id.to_string(),
        trainer: Some(summary(summaries, row.trainer_id)),
        client: Some(summary(summaries, row.client_id)),
        status: status(row.state()) as i32,
        create_time: Some(timestamp(row.created_at)),
        accept_time: row.accepted_at.map(timestamp),
        end_time: row.ended_at.map(timestamp),
        ended_by_id: row.ended_by.map(|u| u.to_string()).unwrap_or_default(),
    }
}
