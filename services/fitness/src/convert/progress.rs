//! Progress logs, sets, records and body measurements as proto messages.

use std::collections::HashMap;

use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::timestamp;
use crate::store::body::MeasurementRow;
use crate::store::progress::{FullLog, SetRow};

/// The stored name of a set type; unset means WORKING; `None` for an unknown value.
pub fn set_type_name(value: i32) -> Option<&'static str> {
    match pb::SetType::try_from(value).ok()? {
        pb::SetType::Unspecified | pb::SetType::Working => Some("working"),
        pb::SetType::WarmUp => Some("warm_up"),
        pb::SetType::Drop => Some("drop"),
        pb::SetType::Amrap => Some("amrap"),
    }
}

/// The proto value of a stored set type.
pub fn set_type_value(name: &str) -> pb::SetType {
    match name {
        "warm_up" => pb::SetType::WarmUp,
        "drop" => pb::SetType::Drop,
        "amrap" => pb::SetType::Amrap,
        _ => pb::SetType::Working,
    }
}

/// Epley estimated one-rep max: the weight itself for a single.
pub fn epley(weight_kg: f64, reps: i32) -> f64 {
    if reps <= 1 {
        weight_kg
    } else {
        weight_kg * (1.0 + f64::from(reps) / 30.0)
    }
}

/// Whether a set counts for records: completed WORKING/AMRAP, 1-12 reps, with weight.
pub fn record_eligible(set: &SetRow) -> bool {
    set.completed
        && matches!(set.set_type.as_str(), "working" | "amrap")
        && (1..=12).contains(&set.reps)
        && set.weight_kg.is_some_and(|w| w > 0.0)
}

/// reps x weight of a completed set; 0 for bodyweight or unfinished sets.
pub fn set_volume(set: &SetRow) -> f64 {
    if set.completed {
        f64::from(set.reps) * set.weight_kg.unwrap_or(0.0)
    } else {
        0.0
    }
}

pub fn set_log(set: &SetRow) -> pb::SetLog {
    pb::SetLog {
        reps: set.reps,
        weight_kg: set.weight_kg,
        duration_seconds: set.duration_seconds,
        set_type: set_type_value(&set.set_type) as i32,
        distance_meters: set.distance_meters,
        rpe: set.rpe,
        prescribed_set: set.prescribed_set,
        completed: Some(set.completed),
        target_met: set.target_met,
    }
}

fn opt_id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// A log with its exercises; `names` gives exercise names at read time.
pub fn progress_log(full: &FullLog, names: &HashMap<Uuid, String>) -> pb::ProgressLog {
    let log = &full.log;
    pb::ProgressLog {
        progress_log_id: log.id.to_string(),
        user_id: log.user_id.to_string(),
        workout_id: opt_id(log.workout_id),
        enrollment_id: opt_id(log.enrollment_id),
        program_day_number: log.program_day_number,
        program_id: opt_id(log.program_id),
        title: log.title.clone(),
        duration_seconds: log.duration_seconds,
        calories: log.calories,
        exercises: full
            .exercises
            .iter()
            .map(|(exercise, sets)| pb::ExerciseLog {
                exercise_id: exercise.exercise_id.to_string(),
                exercise_name: names
                    .get(&exercise.exercise_id)
                    .cloned()
                    .unwrap_or_default(),
                sets: sets.iter().map(set_log).collect(),
                notes: exercise.notes.clone(),
                workout_position: exercise.workout_position,
            })
            .collect(),
        perceived_exertion: log.perceived_exertion,
        notes: log.notes.clone(),
        completed_time: Some(timestamp(log.completed_at)),
        volume_kg: log.volume_kg,
        create_time: Some(timestamp(log.created_at)),
        rating: log.rating,
        update_time: Some(timestamp(log.updated_at)),
    }
}

pub fn measurement(row: &MeasurementRow) -> pb::BodyMeasurement {
    pb::BodyMeasurement {
        measurement_id: row.id.to_string(),
        user_id: row.user_id.to_string(),
        measure_time: Some(timestamp(row.measured_at)),
        weight_kg: row.weight_kg,
        body_fat_percent: row.body_fat_percent,
        waist_cm: row.waist_cm,
        chest_cm: row.chest_cm,
        hips_cm: row.hips_cm,
        arm_cm: row.arm_cm,
        thigh_cm: row.thigh_cm,
        notes: row.notes.clone(),
        create_time: Some(timestamp(row.created_at)),
    }
}
