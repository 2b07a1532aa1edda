//! Workouts: blocks of exercise entries with per-set prescriptions, visibility, premium gating.

mod entries;
mod header;
mod read;

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::FilterHash;
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::fields::{self, Replay, copy_masked, may_publish, optional_enum};
use crate::convert::catalog as cconv;
use crate::convert::workouts as conv;
use crate::store::catalog as catalog_store;
use crate::store::workouts::{self as store, EntryRow, WorkoutFilter, WorkoutRow};

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateWorkout";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListWorkouts";
const WORKOUT_PATHS: &[&str] = &[
    "title",
    "description",
    "difficulty",
    "is_premium",
    "visibility",
    "category_ids",
    "thumbnail_url",
    "duration_seconds",
    "estimated_calories",
    "exercises",
];

fn workout_not_found() -> ApiError {
    ApiError::not_found("workout")
}

fn publish_denied() -> ApiError {
    ApiError::permission_denied("only trainers publish PUBLIC and PREMIUM workouts")
}

/// Private workouts exist only for their creator and admins.
fn visible(caller: &UserPrincipal, row: &WorkoutRow) -> bool {
    row.fields.visibility != "private" || row.creator_id == caller.id() || caller.is_admin()
}

fn encode(entries: &[pb::WorkoutExercise]) -> Result<Vec<EntryRow>, ApiError> {
    entries
        .iter()
        .map(|e| {
            let exercise_id = Uuid::parse_str(&e.exercise_id).map_err(ApiError::internal)?;
            Ok(EntryRow {
                exercise_id,
                entry: e.encode_to_vec(),
            })
        })
        .collect()
}

impl FitnessService {
    /// Validates entries against the catalog (approved exercises only when `public`)
    /// and normalises them, collecting violations into `v`.
    async fn checked_entries(
        &self,
        conn: &mut PgConnection,
        v: &mut Violations,
        caller: &UserPrincipal,
        input: &[pb::WorkoutExercise],
        public: bool,
    ) -> Result<Vec<pb::WorkoutExercise>, ApiError> {
        let p = "workout.exercises";
        let ids = entries::exercise_ids(v, p, input);
        let mut wanted: Vec<Uuid> = ids.iter().flatten().copied().collect();
        wanted.sort_unstable();
        wanted.dedup();
        wanted.truncate(entries::MAX_ENTRIES * 2);
        let facts = catalog_store::exercise_facts(conn, &wanted).await?;
        let builder = entries::Builder {
            facts: &facts,
            caller: caller.id(),
            admin: caller.is_admin(),
            public,
        };
        Ok(entries::normalise(v, p, input, &ids, &builder))
    }

    /// A workout about to be seen by others keeps no exercise pending review.
    async fn check_stored_approved(
        conn: &mut PgConnection,
        v: &mut Violations,
        caller: &UserPrincipal,
        id: Uuid,
    ) -> Result<(), ApiError> {
        let stored = Self::stored_entries(conn, id).await?;
        let ids: Vec<Option<Uuid>> = stored
            .iter()
            .map(|e| Uuid::try_parse(&e.exercise_id).ok())
            .collect();
        let wanted: Vec<Uuid> = ids.iter().flatten().copied().collect();
        let facts = catalog_store::exercise_facts(conn, &wanted).await?;
        let builder = entries::Builder {
            facts: &facts,
            caller: caller.id(),
            admin: caller.is_admin(),
            public: true,
        };
        entries::check_exercises(v, "workout.exercises", &ids, &builder);
        Ok(())
    }

    /// The stored entries of a workout, decoded.
    async fn stored_entries(
        conn: &mut PgConnection,
        id: Uuid,
    ) -> Result<Vec<pb::WorkoutExercise>, ApiError> {
        store::entries(conn, id)
            .await?
            .into_iter()
            .map(|r| pb::WorkoutExercise::decode(r.entry.as_slice()).map_err(ApiError::internal))
            .collect()
    }

    pub async fn create_workout(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateWorkoutRequest,
    ) -> Result<pb::CreateWorkoutResponse, ApiError> {
        let w = req.workout.unwrap_or_default();
        let mut v = Violations::new();
        let visibility = header::visibility(&mut v, "workout", &w);
        let public = visibility.is_some_and(|vis| vis != pb::WorkoutVisibility::Private);
        if public && !may_publish(caller) {
            return Err(publish_denied());
        }
        let replay = Replay::new(&mut v, caller, CREATE_METHOD, &req.request_id, &w);
        let header = header::fields(&mut v, "workout", &w, visibility);
        let mut conn = self.pool.acquire().await?;
        fields::categories(&mut conn, &mut v, "workout.category_ids", &w.category_ids).await?;
        let normalised = self
            .checked_entries(&mut conn, &mut v, caller, &w.exercises, public)
            .await?;
        drop(conn);
        v.finish()?;

        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }
        let rows = encode(&normalised)?;
        let row = store::insert(&mut tx, ids::new_id(), caller.id(), &header, &rows).await?;
        let response = pb::CreateWorkoutResponse {
            workout: Some(self.render_workout(&mut tx, row, normalised).await?),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_workouts(
        &self,
        caller: &UserPrincipal,
        req: pb::ListWorkoutsRequest,
    ) -> Result<pb::ListWorkoutsResponse, ApiError> {
        let mut v = Violations::new();
        let limit = fields::page_size(&mut v, req.page_size);
        let query = req.query.trim().to_string();
        fields::optional_text(&mut v, "query", &query, 100);
        let mut f = WorkoutFilter {
            viewer: caller.id(),
            category: (!req.category_id.is_empty()).then(|| req.category_id.clone()),
            query: (!query.is_empty()).then(|| query.clone()),
            difficulty: optional_enum(&mut v, "difficulty", req.difficulty)
                .map(cconv::difficulty_text),
            premium: fields::premium_filter(&mut v, req.premium_filter),
            creator: fields::optional_id(&mut v, "creator_id", &req.creator_id),
            equipment: optional_enum(&mut v, "equipment", req.equipment).map(cconv::equipment_text),
            muscle_group: optional_enum(&mut v, "muscle_group", req.muscle_group)
                .map(cconv::group_text),
            visibility: optional_enum(&mut v, "visibility", req.visibility)
                .map(conv::visibility_text),
            ..Default::default()
        };
        if req.min_duration_seconds < 0 {
            v.add("min_duration_seconds", "must not be negative");
        }
        if req.max_duration_seconds < 0 {
            v.add("max_duration_seconds", "must not be negative");
        }
        if req.max_duration_seconds > 0 && req.min_duration_seconds > req.max_duration_seconds {
            v.add(
                "min_duration_seconds",
                "must not be above max_duration_seconds",
            );
        }
        f.min_duration = (req.min_duration_seconds > 0).then_some(req.min_duration_seconds);
        f.max_duration = (req.max_duration_seconds > 0).then_some(req.max_duration_seconds);
        v.finish()?;
        let filters = FilterHash::new()
            .add("category_id", req.category_id.as_bytes())
            .add("difficulty", req.difficulty.to_be_bytes())
            .add("min", req.min_duration_seconds.to_be_bytes())
            .add("max", req.max_duration_seconds.to_be_bytes())
            .add("premium", req.premium_filter.to_be_bytes())
            .add("creator", req.creator_id.as_bytes())
            .add("query", query.as_bytes())
            .add("equipment", req.equipment.to_be_bytes())
            .add("muscle_group", req.muscle_group.to_be_bytes())
            .add("visibility", req.visibility.to_be_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = fields::score_id_cursor(pager.keys(&req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &f, after, pager.fetch()).await?;
        let token = pager.next_token(&mut rows, |r| fields::score_id_keys(r.score, r.row.id));
        let workouts = self
            .render_workouts(
                &mut conn,
                rows.into_iter().map(|r| (r.row, Vec::new())).collect(),
            )
            .await?;
        Ok(pb::ListWorkoutsResponse {
            workouts,
            next_page_token: token,
        })
    }

    pub async fn get_workout(
        &self,
        caller: &UserPrincipal,
        req: pb::GetWorkoutRequest,
    ) -> Result<pb::GetWorkoutResponse, ApiError> {
        let id = ids::parse_id("workout_id", &req.workout_id)?;
        let mut conn = self.pool.acquire().await?;
        let row = store::get(&mut conn, id, false)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or_else(workout_not_found)?;
        self.premium_gate(caller, row.fields.visibility == "premium", row.creator_id)
            .await?;
        let entries = Self::stored_entries(&mut conn, id).await?;
        Ok(pb::GetWorkoutResponse {
            workout: Some(self.render_workout(&mut conn, row, entries).await?),
        })
    }

    /// Locks a workout for a change: NOT_FOUND when the caller cannot see it,
    /// PERMISSION_DENIED when they can but are neither its creator nor (when
    /// `admin_may`) an admin.
    async fn own_workout(
        conn: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        admin_may: bool,
    ) -> Result<WorkoutRow, ApiError> {
        let row = store::get(conn, id, true)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or_else(workout_not_found)?;
        if row.creator_id != caller.id() && !(admin_may && caller.is_admin()) {
            return Err(ApiError::permission_denied(
                "only the workout's creator may change it",
            ));
        }
        Ok(row)
    }

    pub async fn update_workout(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateWorkoutRequest,
    ) -> Result<pb::UpdateWorkoutResponse, ApiError> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), WORKOUT_PATHS)?;
        let input = req.workout.unwrap_or_default();
        let id = ids::parse_id("workout.workout_id", &input.workout_id)?;
        let mut tx = self.pool.begin().await?;
        let current = Self::own_workout(&mut tx, caller, id, false).await?;
        let current_vis =
            pb::WorkoutVisibility::try_from(conv::visibility_number(&current.fields.visibility))
                .unwrap_or(pb::WorkoutVisibility::Private);

        let mut v = Violations::new();
        let mut vis = current_vis;
        if mask.contains("is_premium") {
            if input.is_premium {
                vis = pb::WorkoutVisibility::Premium;
            } else if vis == pb::WorkoutVisibility::Premium {
                vis = pb::WorkoutVisibility::Public;
            }
        }
        if mask.contains("visibility") {
            match pb::WorkoutVisibility::try_from(input.visibility) {
                Ok(pb::WorkoutVisibility::Unspecified) => {}
                Ok(asked) => {
                    if mask.contains("is_premium")
                        && input.is_premium
                        && asked != pb::WorkoutVisibility::Premium
                    {
                        v.add("workout.is_premium", "is true only for a PREMIUM workout");
                    }
                    vis = asked;
                }
                Err(_) => v.add("workout.visibility", "unknown value"),
            }
        }
        if vis != current_vis && vis != pb::WorkoutVisibility::Private && !may_publish(caller) {
            return Err(publish_denied());
        }

        let mut merged = conv::workout(current, Default::default(), Vec::new());
        copy_masked!(mask, merged, input;
            title, description, difficulty, category_ids, thumbnail_url, duration_seconds,
            estimated_calories);
        let header = header::fields(&mut v, "workout", &merged, Some(vis));
        let categories = &header.category_ids;
        fields::categories(&mut tx, &mut v, "workout.category_ids", categories).await?;
        let public = vis != pb::WorkoutVisibility::Private;
        let new_entries = if mask.contains("exercises") {
            let input = &input.exercises;
            Some(
                self.checked_entries(&mut tx, &mut v, caller, input, public)
                    .await?,
            )
        } else {
            if public && current_vis == pb::WorkoutVisibility::Private {
                Self::check_stored_approved(&mut tx, &mut v, caller, id).await?;
            }
            None
        };
        v.finish()?;
        let rows = new_entries.as_deref().map(encode).transpose()?;
        let row = store::update(&mut tx, id, &header, rows.as_deref()).await?;
        let entries = match new_entries {
            Some(entries) => entries,
            None => Self::stored_entries(&mut tx, id).await?,
        };
        let workout = self.render_workout(&mut tx, row, entries).await?;
        tx.commit().await?;
        Ok(pb::UpdateWorkoutResponse {
            workout: Some(workout),
        })
    }

    pub async fn delete_workout(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteWorkoutRequest,
    ) -> Result<pb::DeleteWorkoutResponse, ApiError> {
        let id = ids::parse_id("workout_id", &req.workout_id)?;
        let mut tx = self.pool.begin().await?;
        Self::own_workout(&mut tx, caller, id, true).await?;
        let in_program = || {
            ApiError::failed_precondition("WORKOUT_IN_PROGRAM", "a program's day uses this workout")
        };
        if store::in_program(&mut tx, id).await? {
            return Err(in_program());
        }
        match store::delete(&mut tx, id).await {
            Ok(true) => {}
            Ok(false) => return Err(workout_not_found()),
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23503") => {
                return Err(in_program());
            }
            Err(err) => return Err(err.into()),
        }
        tx.commit().await?;
        Ok(pb::DeleteWorkoutResponse {})
    }
}
