//! Validation of the writable fields of a progress log, each violation collected under
//! its field path (texts, ids and times use the checks every resource shares).

use tribe_kit::Violations;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use crate::convert::progress::set_type_name;
use crate::service::fields::{optional_text, required_id};

pub const MAX_EXERCISES: usize = 50;
pub const MAX_SETS: usize = 50;

/// A performed set as validated input.
#[derive(Debug, Clone)]
pub struct SetInput {
    pub reps: i32,
    pub weight_kg: Option<f64>,
    pub duration_seconds: i32,
    pub distance_meters: f64,
    pub rpe: f64,
    pub set_type: &'static str,
    pub prescribed_set: i32,
    pub completed: bool,
}

/// A performed exercise as validated input.
#[derive(Debug, Clone)]
pub struct ExerciseInput {
    pub exercise_id: Uuid,
    pub workout_position: i32,
    pub notes: String,
    pub sets: Vec<SetInput>,
}

fn in_range(value: f64, min: f64, max: f64) -> bool {
    value.is_finite() && (min..=max).contains(&value)
}

pub fn check_duration(v: &mut Violations, field: &str, seconds: i32) {
    if !(1..=86_400).contains(&seconds) {
        v.add(field, "must be 1-86400 seconds");
    }
}

pub fn check_calories(v: &mut Violations, field: &str, kcal: i32) {
    if !(0..=20_000).contains(&kcal) {
        v.add(field, "must be 0-20000 kcal");
    }
}

pub fn check_exertion(v: &mut Violations, field: &str, value: i32) {
    if !(0..=10).contains(&value) {
        v.add(field, "must be 1-10, or 0 when not given");
    }
}

pub fn check_rating(v: &mut Violations, field: &str, value: i32) {
    if !(0..=5).contains(&value) {
        v.add(field, "must be 1-5, or 0 when not given");
    }
}

fn check_set(v: &mut Violations, field: &str, set: &pb::SetLog, linked: bool) -> SetInput {
    if !(0..=1000).contains(&set.reps) {
        v.add(format!("{field}.reps"), "must be 0-1000");
    }
    if let Some(weight) = set.weight_kg
        && !in_range(weight, 0.0, 1000.0)
    {
        v.add(format!("{field}.weight_kg"), "must be 0-1000 kg");
    }
    if !(0..=86_400).contains(&set.duration_seconds) {
        v.add(
            format!("{field}.duration_seconds"),
            "must be 0-86400 seconds",
        );
    }
    if !in_range(set.distance_meters, 0.0, 100_000.0) {
        v.add(
            format!("{field}.distance_meters"),
            "must be 0-100000 meters",
        );
    }
    if !(set.rpe == 0.0 || in_range(set.rpe, 1.0, 10.0)) {
        v.add(format!("{field}.rpe"), "must be 1-10, or 0 when not given");
    }
    let set_type = set_type_name(set.set_type).unwrap_or_else(|| {
        v.add(format!("{field}.set_type"), "unknown set type");
        "working"
    });
    if set.prescribed_set < 0 {
        v.add(format!("{field}.prescribed_set"), "must not be negative");
    } else if set.prescribed_set > 0 && !linked {
        v.add(
            format!("{field}.prescribed_set"),
            "needs the exercise's workout_position",
        );
    }
    SetInput {
        reps: set.reps,
        weight_kg: set.weight_kg,
        duration_seconds: set.duration_seconds,
        distance_meters: set.distance_meters,
        rpe: set.rpe,
        set_type,
        prescribed_set: set.prescribed_set.max(0),
        completed: set.completed.unwrap_or(true),
    }
}

/// The exercises of a log; `may_link` says whether a workout is (or will be) known, so
/// entries may name a `workout_position`.
pub fn check_exercises(
    v: &mut Violations,
    field: &str,
    exercises: &[pb::ExerciseLog],
    may_link: bool,
) -> Vec<ExerciseInput> {
    if exercises.len() > MAX_EXERCISES {
        v.add(field, format!("at most {MAX_EXERCISES} exercises"));
    }
    let mut out = Vec::with_capacity(exercises.len());
    for (i, exercise) in exercises.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let exercise_id = required_id(v, &format!("{at}.exercise_id"), &exercise.exercise_id);
        optional_text(v, &format!("{at}.notes"), &exercise.notes, 500);
        if exercise.workout_position < 0 {
            v.add(format!("{at}.workout_position"), "must not be negative");
        } else if exercise.workout_position > 0 && !may_link {
            v.add(format!("{at}.workout_position"), "needs workout_id");
        }
        if exercise.sets.is_empty() || exercise.sets.len() > MAX_SETS {
            v.add(format!("{at}.sets"), format!("must have 1-{MAX_SETS} sets"));
        }
        let linked = exercise.workout_position > 0;
        let sets = exercise
            .sets
            .iter()
            .enumerate()
            .map(|(j, set)| check_set(v, &format!("{at}.sets[{j}]"), set, linked))
            .collect();
        out.push(ExerciseInput {
            exercise_id: exercise_id.unwrap_or_default(),
            workout_position: exercise.workout_position.max(0),
            notes: exercise.notes.clone(),
            sets,
        });
    }
    out
}
