//! Target vs actual: turns validated exercises into stored rows, linking each set to
//! the prescription of the workout entry it performs and judging whether it met it.

use chrono::{DateTime, Utc};
use tribe_kit::Violations;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::fields::ExerciseInput;
use crate::convert::progress::set_volume;
use crate::store::progress::{ExerciseRow, SetRow};

/// The rows of a log's exercises and the volume they add up to.
#[derive(Debug, Default)]
pub struct Built {
    pub exercises: Vec<(ExerciseRow, Vec<SetRow>)>,
    pub volume_kg: f64,
}

/// The prescribed sets of an entry: its `set_plan`, or the flat fields repeated.
fn plan(entry: &pb::WorkoutExercise) -> Vec<pb::SetPrescription> {
    if !entry.set_plan.is_empty() {
        return entry.set_plan.clone();
    }
    let one = pb::SetPrescription {
        set_type: pb::SetType::Working as i32,
        reps_min: entry.reps,
        reps_max: entry.reps,
        load: entry.weight_kg.map(pb::set_prescription::Load::WeightKg),
        duration_seconds: entry.duration_seconds,
        rest_seconds: entry.rest_seconds,
        ..Default::default()
    };
    vec![one; usize::try_from(entry.sets.max(0)).unwrap_or(0)]
}

/// Reps at least the floor, load at least an absolute prescribed load, timed and
/// distance targets reached, and the set finished.
fn target_met(
    reps: i32,
    weight: Option<f64>,
    duration: i32,
    distance: f64,
    completed: bool,
    p: &pb::SetPrescription,
) -> bool {
    let load_ok = match p.load {
        Some(pb::set_prescription::Load::WeightKg(kg)) => weight.unwrap_or(0.0) + 1e-9 >= kg,
        _ => true,
    };
    completed
        && reps >= p.reps_min
        && load_ok
        && duration >= p.duration_seconds
        && distance + 1e-9 >= p.distance_meters
}

/// The entry at 1-based `position` of the workout.
fn entry_at(workout: &pb::Workout, position: i32) -> Option<&pb::WorkoutExercise> {
    workout
        .exercises
        .iter()
        .find(|e| e.position == position)
        .or_else(|| {
            let index = usize::try_from(position).ok()?.checked_sub(1)?;
            workout.exercises.get(index).filter(|e| e.position == 0)
        })
}

/// Builds the rows of `inputs` for log `log_id`; links that do not fit `workout` are
/// recorded in `v` under `field`.
pub fn build(
    v: &mut Violations,
    field: &str,
    log_id: Uuid,
    completed_at: DateTime<Utc>,
    inputs: &[ExerciseInput],
    workout: Option<&pb::Workout>,
) -> Built {
    let mut built = Built::default();
    for (i, input) in inputs.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let entry = if input.workout_position > 0 {
            match workout {
                None => {
                    v.add(format!("{at}.workout_position"), "needs workout_id");
                    None
                }
                Some(workout) => match entry_at(workout, input.workout_position) {
                    None => {
                        v.add(
                            format!("{at}.workout_position"),
                            format!("the workout has {} entries", workout.exercises.len()),
                        );
                        None
                    }
                    Some(entry) if entry.exercise_id != input.exercise_id.to_string() => {
                        v.add(
                            format!("{at}.workout_position"),
                            "that workout entry is another exercise",
                        );
                        None
                    }
                    Some(entry) => Some(plan(entry)),
                },
            }
        } else {
            None
        };
        let mut sets = Vec::with_capacity(input.sets.len());
        for (j, set) in input.sets.iter().enumerate() {
            let set_number = i32::try_from(j + 1).unwrap_or(i32::MAX);
            let mut resolved = 0;
            let mut met = false;
            if let Some(plan) = &entry {
                let wanted = if set.prescribed_set > 0 {
                    set.prescribed_set
                } else {
                    set_number
                };
                let prescription = usize::try_from(wanted - 1).ok().and_then(|k| plan.get(k));
                match prescription {
                    Some(p) => {
                        resolved = wanted;
                        met = target_met(
                            set.reps,
                            set.weight_kg,
                            set.duration_seconds,
                            set.distance_meters,
                            set.completed,
                            p,
                        );
                    }
                    None if set.prescribed_set > 0 => v.add(
                        format!("{at}.sets[{j}].prescribed_set"),
                        format!("the workout entry prescribes {} sets", plan.len()),
                    ),
                    None => {}
                }
            }
            let row = SetRow {
                log_id,
                position,
                set_number,
                exercise_id: input.exercise_id,
                workout_position: input.workout_position,
                set_type: set.set_type.to_string(),
                reps: set.reps,
                weight_kg: set.weight_kg,
                duration_seconds: set.duration_seconds,
                distance_meters: set.distance_meters,
                rpe: set.rpe,
                prescribed_set: resolved,
                completed: set.completed,
                target_met: met,
                completed_at,
            };
            built.volume_kg += set_volume(&row);
            sets.push(row);
        }
        built.exercises.push((
            ExerciseRow {
                log_id,
                position,
                exercise_id: input.exercise_id,
                workout_position: input.workout_position,
                notes: input.notes.clone(),
            },
            sets,
        ));
    }
    built
}
