//! Workout rows <-> proto.

use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;

use super::catalog::{difficulty_number, stored};
use super::timestamp;
use crate::store::workouts::{WorkoutFields, WorkoutRow};

pub fn visibility_text(v: pb::WorkoutVisibility) -> String {
    stored(v.as_str_name(), "WORKOUT_VISIBILITY_")
}

pub fn visibility_number(s: &str) -> i32 {
    pb::WorkoutVisibility::from_str_name(&format!("WORKOUT_VISIBILITY_{}", s.to_ascii_uppercase()))
        .map_or(0, Into::into)
}

/// A workout for the wire; `exercises` is empty in list results.
pub fn workout(
    row: WorkoutRow,
    creator: UserSummary,
    exercises: Vec<pb::WorkoutExercise>,
) -> pb::Workout {
    let WorkoutRow {
        id,
        creator_id: _,
        fields:
            WorkoutFields {
                title,
                description,
                difficulty,
                visibility,
                category_ids,
                thumbnail_url,
                duration_seconds,
                estimated_calories,
            },
        exercise_count,
        created_at,
        updated_at,
    } = row;
    pb::Workout {
        workout_id: id.to_string(),
        title,
        description,
        creator: Some(creator),
        difficulty: difficulty_number(&difficulty),
        is_premium: visibility == "premium",
        category_ids,
        thumbnail_url,
        duration_seconds,
        estimated_calories,
        exercises,
        exercise_count,
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        visibility: visibility_number(&visibility),
    }
}
