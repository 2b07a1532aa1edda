//! The events of a newly logged session: WorkoutCompleted and a PersonalRecordSet per
//! exercise whose best estimated one-rep max it improved.

use std::collections::HashMap;

use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::convert::progress::{epley, record_eligible};
use crate::service::emit;
use crate::store::progress::{self as store, ExerciseRow, SetRow};

/// The best e1RM per exercise of `user` before the session, for the exercises it has.
pub async fn bests_before(
    conn: &mut PgConnection,
    user: Uuid,
    exercises: &[(ExerciseRow, Vec<SetRow>)],
) -> Result<HashMap<Uuid, f64>, ApiError> {
    let mut ids: Vec<Uuid> = exercises.iter().map(|(e, _)| e.exercise_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(store::best_per_exercise(conn, user, Some(&ids))
        .await?
        .into_iter()
        .map(|best| (best.exercise_id, best.e1rm))
        .collect())
}

/// Enqueues PersonalRecordSet for each exercise of the session whose best eligible
/// set beats `before` (first_record when there was none).
pub async fn emit_records(
    conn: &mut PgConnection,
    user: Uuid,
    log_id: Uuid,
    exercises: &[(ExerciseRow, Vec<SetRow>)],
    before: &HashMap<Uuid, f64>,
    names: &HashMap<Uuid, String>,
) -> Result<(), ApiError> {
    // The best set per exercise in this session, in the order exercises first appear.
    let mut order: Vec<Uuid> = Vec::new();
    let mut best: HashMap<Uuid, (f64, &SetRow)> = HashMap::new();
    for set in exercises.iter().flat_map(|(_, sets)| sets) {
        if !record_eligible(set) {
            continue;
        }
        let e1rm = epley(set.weight_kg.unwrap_or(0.0), set.reps);
        match best.get(&set.exercise_id) {
            Some((top, _)) if *top >= e1rm => {}
            current => {
                if current.is_none() {
                    order.push(set.exercise_id);
                }
                best.insert(set.exercise_id, (e1rm, set));
            }
        }
    }
    for exercise in order {
        let Some((e1rm, set)) = best.get(&exercise) else {
            continue;
        };
        let previous = before.get(&exercise).copied();
        if previous.is_some_and(|p| *e1rm <= p + 1e-9) {
            continue;
        }
        emit(
            conn,
            user,
            user,
            Payload::PersonalRecordSet(events::PersonalRecordSet {
                user_id: user.to_string(),
                exercise_id: exercise.to_string(),
                exercise_name: names.get(&exercise).cloned().unwrap_or_default(),
                progress_log_id: log_id.to_string(),
                estimated_one_rep_max_kg: *e1rm,
                weight_kg: set.weight_kg.unwrap_or(0.0),
                reps: set.reps,
                first_record: previous.is_none(),
            }),
        )
        .await?;
    }
    Ok(())
}
