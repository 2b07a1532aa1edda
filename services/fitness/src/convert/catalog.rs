//! Catalog rows <-> proto: stored enum names, the muscle -> group map, exercises.

use std::collections::HashMap;

use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use super::timestamp;
use crate::store::catalog::{CategoryRow, ExerciseFields, ExerciseRow};

/// The stored name of an enum value: its proto name without `prefix`, lowercase
/// (`MUSCLE_PECTORALIS_MAJOR` -> `pectoralis_major`).
pub fn stored(proto_name: &str, prefix: &str) -> String {
    proto_name
        .strip_prefix(prefix)
        .unwrap_or(proto_name)
        .to_ascii_lowercase()
}

/// The proto number of a stored name; 0 (UNSPECIFIED) when unknown.
fn number<E: Into<i32>>(stored: &str, prefix: &str, from_name: fn(&str) -> Option<E>) -> i32 {
    from_name(&format!("{prefix}{}", stored.to_ascii_uppercase())).map_or(0, Into::into)
}

pub fn muscle_text(m: pb::Muscle) -> String {
    stored(m.as_str_name(), "MUSCLE_")
}
pub fn muscle_number(s: &str) -> i32 {
    number(s, "MUSCLE_", pb::Muscle::from_str_name)
}
pub fn group_text(g: pb::MuscleGroup) -> String {
    stored(g.as_str_name(), "MUSCLE_GROUP_")
}
pub fn group_number(s: &str) -> i32 {
    number(s, "MUSCLE_GROUP_", pb::MuscleGroup::from_str_name)
}
pub fn equipment_text(e: pb::Equipment) -> String {
    stored(e.as_str_name(), "EQUIPMENT_")
}
pub fn equipment_number(s: &str) -> i32 {
    number(s, "EQUIPMENT_", pb::Equipment::from_str_name)
}
pub fn difficulty_text(d: pb::Difficulty) -> String {
    stored(d.as_str_name(), "DIFFICULTY_")
}
pub fn difficulty_number(s: &str) -> i32 {
    number(s, "DIFFICULTY_", pb::Difficulty::from_str_name)
}
pub fn mechanics_text(m: pb::Mechanics) -> String {
    stored(m.as_str_name(), "MECHANICS_")
}
pub fn mechanics_number(s: &str) -> i32 {
    number(s, "MECHANICS_", pb::Mechanics::from_str_name)
}
pub fn status_text(s: pb::ExerciseStatus) -> String {
    stored(s.as_str_name(), "EXERCISE_STATUS_")
}
pub fn status_number(s: &str) -> i32 {
    number(s, "EXERCISE_STATUS_", pb::ExerciseStatus::from_str_name)
}

/// The group an individual muscle belongs to (as the contract's enum comments say).
pub fn group_of(muscle: pb::Muscle) -> pb::MuscleGroup {
    use pb::Muscle as M;
    use pb::MuscleGroup as G;
    match muscle {
        M::Unspecified => G::Unspecified,
        M::PectoralisMajor | M::PectoralisMinor | M::SerratusAnterior => G::Chest,
        M::LatissimusDorsi | M::Trapezius | M::Rhomboids | M::ErectorSpinae => G::Back,
        M::AnteriorDeltoid | M::LateralDeltoid | M::PosteriorDeltoid | M::RotatorCuff => {
            G::Shoulders
        }
        M::BicepsBrachii | M::Brachialis => G::Biceps,
        M::TricepsBrachii => G::Triceps,
        M::Brachioradialis | M::WristFlexors | M::WristExtensors => G::Forearms,
        M::RectusAbdominis | M::Obliques | M::TransversusAbdominis => G::Core,
        M::GluteusMaximus | M::GluteusMedius => G::Glutes,
        M::QuadricepsFemoris => G::Quadriceps,
        M::Hamstrings => G::Hamstrings,
        M::Gastrocnemius | M::Soleus | M::TibialisAnterior => G::Calves,
        M::HipFlexors | M::Adductors | M::Abductors => G::Hips,
        M::Cardiovascular => G::FullBody,
    }
}

pub fn category(row: CategoryRow) -> pb::Category {
    let CategoryRow {
        id,
        display_name,
        description,
        icon_url,
    } = row;
    pb::Category {
        category_id: id,
        display_name,
        description,
        icon_url,
    }
}

/// An exercise for the wire; `creators` holds the summaries of creator ids (seeded
/// exercises have none).
pub fn exercise(row: ExerciseRow, creators: &HashMap<Uuid, UserSummary>) -> pb::Exercise {
    let ExerciseRow {
        id,
        fields:
            ExerciseFields {
                name,
                description,
                instructions,
                primary_groups,
                secondary_groups,
                primary_muscles,
                secondary_muscles,
                equipment,
                difficulty,
                mechanics,
                aliases,
                category_ids,
                thumbnail_url,
                video_url,
            },
        creator_id,
        status,
        review_note,
        created_at,
        updated_at,
    } = row;
    let numbers = |values: &[String], f: fn(&str) -> i32| values.iter().map(|s| f(s)).collect();
    pb::Exercise {
        exercise_id: id.to_string(),
        name,
        description,
        instructions,
        primary_muscle_groups: numbers(&primary_groups, group_number),
        secondary_muscle_groups: numbers(&secondary_groups, group_number),
        equipment: numbers(&equipment, equipment_number),
        difficulty: difficulty_number(&difficulty),
        category_ids,
        thumbnail_url,
        video_url,
        creator: creator_id.map(|c| {
            creators.get(&c).cloned().unwrap_or_else(|| UserSummary {
                user_id: c.to_string(),
                ..Default::default()
            })
        }),
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        primary_muscles: numbers(&primary_muscles, muscle_number),
        secondary_muscles: numbers(&secondary_muscles, muscle_number),
        mechanics: mechanics_number(&mechanics),
        aliases,
        status: status_number(&status),
        review_note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_round_trip() {
        assert_eq!(muscle_text(pb::Muscle::PectoralisMajor), "pectoralis_major");
        assert_eq!(
            muscle_number("pectoralis_major"),
            pb::Muscle::PectoralisMajor as i32
        );
        assert_eq!(group_text(pb::MuscleGroup::FullBody), "full_body");
        assert_eq!(
            equipment_number("pull_up_bar"),
            pb::Equipment::PullUpBar as i32
        );
        assert_eq!(
            status_text(pb::ExerciseStatus::PendingReview),
            "pending_review"
        );
        assert_eq!(muscle_number("nonsense"), 0);
        assert_eq!(group_of(pb::Muscle::Soleus), pb::MuscleGroup::Calves);
    }
}
