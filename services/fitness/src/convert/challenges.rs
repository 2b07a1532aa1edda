//! Challenges: stored metric names and rows <-> proto messages.

use chrono::{DateTime, Utc};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;

use super::timestamp;
use crate::store::challenges::{ChallengeRow, Standing};

/// The stored name of a metric; `None` for UNSPECIFIED and unknown values.
pub fn metric_name(metric: i32) -> Option<&'static str> {
    Some(match pb::ChallengeMetric::try_from(metric).ok()? {
        pb::ChallengeMetric::Unspecified => return None,
        pb::ChallengeMetric::WorkoutsCompleted => "workouts_completed",
        pb::ChallengeMetric::Minutes => "minutes",
        pb::ChallengeMetric::Volume => "volume",
        pb::ChallengeMetric::Calories => "calories",
        pb::ChallengeMetric::WorkoutSessions => "workout_sessions",
    })
}

pub fn metric_value(name: &str) -> pb::ChallengeMetric {
    match name {
        "workouts_completed" => pb::ChallengeMetric::WorkoutsCompleted,
        "minutes" => pb::ChallengeMetric::Minutes,
        "volume" => pb::ChallengeMetric::Volume,
        "calories" => pb::ChallengeMetric::Calories,
        "workout_sessions" => pb::ChallengeMetric::WorkoutSessions,
        _ => pb::ChallengeMetric::Unspecified,
    }
}

/// Where a challenge with this window stands at `now`.
pub fn state(start: DateTime<Utc>, end: DateTime<Utc>, now: DateTime<Utc>) -> pb::ChallengeState {
    if now < start {
        pb::ChallengeState::Upcoming
    } else if now < end {
        pb::ChallengeState::Active
    } else {
        pb::ChallengeState::Past
    }
}

pub fn challenge(row: ChallengeRow, creator: UserSummary, now: DateTime<Utc>) -> pb::Challenge {
    let ChallengeRow {
        id,
        creator_id: _,
        title,
        description,
        difficulty,
        is_premium,
        category_ids,
        thumbnail_url,
        metric,
        goal,
        workout_id,
        start_at,
        end_at,
        created_at,
        updated_at,
        participant_count,
        joined_at,
        completed_at,
        my_score,
    } = row;
    pb::Challenge {
        challenge_id: id.to_string(),
        title,
        description,
        creator: Some(creator),
        difficulty,
        is_premium,
        category_ids,
        thumbnail_url,
        metric: metric_value(&metric) as i32,
        goal,
        start_time: Some(timestamp(start_at)),
        end_time: Some(timestamp(end_at)),
        state: state(start_at, end_at, now) as i32,
        participant_count,
        joined: joined_at.is_some(),
        join_time: joined_at.map(timestamp),
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        workout_id: workout_id.map(|w| w.to_string()).unwrap_or_default(),
        complete_time: completed_at.filter(|_| joined_at.is_some()).map(timestamp),
        my_score,
    }
}

pub fn entry(standing: Standing, user: UserSummary, goal: f64) -> pb::LeaderboardEntry {
    let Standing {
        user_id: _,
        joined_at,
        completed_at,
        score,
        rank,
    } = standing;
    pb::LeaderboardEntry {
        rank,
        user: Some(user),
        score,
        goal_reached: score >= goal,
        join_time: Some(timestamp(joined_at)),
        complete_time: completed_at.map(timestamp),
    }
}
