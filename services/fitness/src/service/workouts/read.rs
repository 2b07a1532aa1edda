//! Reading workouts for the wire and for the other resources.

use std::collections::HashMap;

use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::{visible, workout_not_found};
use crate::convert::catalog as cconv;
use crate::convert::workouts as conv;
use crate::service::FitnessService;
use crate::store::catalog as catalog_store;
use crate::store::workouts::{self as store, WorkoutRow};

impl FitnessService {
    /// Workouts for the wire: creators summarised, entries' exercises hydrated.
    pub(super) async fn render_workouts(
        &self,
        conn: &mut PgConnection,
        rows: Vec<(WorkoutRow, Vec<pb::WorkoutExercise>)>,
    ) -> Result<Vec<pb::Workout>, ApiError> {
        let mut exercise_ids: Vec<Uuid> = rows
            .iter()
            .flat_map(|(_, es)| {
                es.iter()
                    .filter_map(|e| Uuid::parse_str(&e.exercise_id).ok())
            })
            .collect();
        exercise_ids.sort_unstable();
        exercise_ids.dedup();
        let exercises = catalog_store::by_ids(conn, &exercise_ids).await?;
        let mut people: Vec<Uuid> = rows.iter().map(|(r, _)| r.creator_id).collect();
        people.extend(exercises.iter().filter_map(|e| e.creator_id));
        let summaries = self.summaries(&people).await;
        let exercises: HashMap<String, pb::Exercise> = exercises
            .into_iter()
            .map(|e| (e.id.to_string(), cconv::exercise(e, &summaries)))
            .collect();
        Ok(rows
            .into_iter()
            .map(|(row, mut entries)| {
                for e in &mut entries {
                    e.exercise = exercises.get(&e.exercise_id).cloned();
                }
                let creator = summaries.get(&row.creator_id).cloned().unwrap_or_else(|| {
                    tribe_proto::r#type::v1::UserSummary {
                        user_id: row.creator_id.to_string(),
                        ..Default::default()
                    }
                });
                conv::workout(row, creator, entries)
            })
            .collect())
    }

    pub(super) async fn render_workout(
        &self,
        conn: &mut PgConnection,
        row: WorkoutRow,
        entries: Vec<pb::WorkoutExercise>,
    ) -> Result<pb::Workout, ApiError> {
        self.render_workouts(conn, vec![(row, entries)])
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("rendered no workout")))
    }

    /// A workout as `caller` may see it, for the other resources (programs, sessions,
    /// logs, challenges): NOT_FOUND when unknown, deleted, or PRIVATE and the caller is
    /// neither its creator nor an admin. `creator.user_id` and `visibility` are always
    /// set; with `detail` the exercises come with a normalised `set_plan` (filled from
    /// the flat fields when the entry had none). Premium is NOT enforced here: callers
    /// check it with `premium_workout_gate`.
    pub(crate) async fn workout_for(
        &self,
        caller: &UserPrincipal,
        workout_id: uuid::Uuid,
        detail: bool,
    ) -> Result<pb::Workout, ApiError> {
        let mut conn = self.pool.acquire().await?;
        let row = store::get(&mut conn, workout_id, false)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or_else(workout_not_found)?;
        let entries = if detail {
            Self::stored_entries(&mut conn, workout_id).await?
        } else {
            Vec::new()
        };
        self.render_workout(&mut conn, row, entries).await
    }
}
