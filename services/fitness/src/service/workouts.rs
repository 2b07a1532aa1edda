//! Workouts: blocks of exercise entries with per-set prescriptions, visibility, premium gating.

mod entries;
mod header;
mod read;

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::catalog::rules;
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

fn may_publish(caller: &UserPrincipal) -> bool {
    caller.has_role(Role::Trainer) || caller.is_admin()
}

fn publish_denied() -> ApiError {
    ApiError::permission_denied("only trainers publish PUBLIC and PREMIUM workouts")
}

/// Private workouts exist only for their creator and admins.
fn visible(caller: &UserPrincipal, row: &WorkoutRow) -> bool {
    row.visibility != "private" || row.creator_id == caller.id() || caller.is_admin()
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
    /// Validates entries against the catalog and normalises them into `v`.
    async fn checked_entries(
        &self,
        conn: &mut PgConnection,
        v: &mut Violations,
        caller: &UserPrincipal,
        input: &[pb::WorkoutExercise],
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
        };
        Ok(entries::normalise(v, p, input, &ids, &builder))
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
        if visibility.is_some_and(|vis| vis != pb::WorkoutVisibility::Private)
            && !may_publish(caller)
        {
            return Err(publish_denied());
        }
        let fields = header::fields(&mut v, "workout", &w, visibility);
        if !req.request_id.is_empty() {
            v.check("request_id", ids::parse_request_id(&req.request_id));
        }
        let mut conn = self.pool.acquire().await?;
        rules::known_categories(&mut conn, &mut v, "workout.category_ids", &w.category_ids).await?;
        let normalised = self
            .checked_entries(&mut conn, &mut v, caller, &w.exercises)
            .await?;
        drop(conn);
        v.finish()?;

        let hash = idempotency::request_hash(&w.encode_to_vec());
        let keyed = !req.request_id.is_empty();
        let mut tx = self.pool.begin().await?;
        if keyed
            && let Claim::Replay(bytes) = idempotency::claim(
                &mut tx,
                caller.subject(),
                CREATE_METHOD,
                &req.request_id,
                &hash,
            )
            .await?
        {
            return pb::CreateWorkoutResponse::decode(bytes.as_slice()).map_err(ApiError::internal);
        }
        let rows = encode(&normalised)?;
        let row = store::insert(&mut tx, ids::new_id(), caller.id(), &fields, &rows).await?;
        let response = pb::CreateWorkoutResponse {
            workout: Some(self.render_workout(&mut tx, row, normalised).await?),
        };
        if keyed {
            idempotency::complete(
                &mut tx,
                caller.subject(),
                CREATE_METHOD,
                &req.request_id,
                &response.encode_to_vec(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_workouts(
        &self,
        caller: &UserPrincipal,
        req: pb::ListWorkoutsRequest,
    ) -> Result<pb::ListWorkoutsResponse, ApiError> {
        let mut v = Violations::new();
        let limit = v.check("page_size", page::page_size(req.page_size));
        let query = req.query.trim().to_string();
        if query.chars().count() > 100 {
            v.add("query", "must be at most 100 characters");
        }
        let mut f = WorkoutFilter {
            viewer: caller.id(),
            category: (!req.category_id.is_empty()).then(|| req.category_id.clone()),
            query: (!query.is_empty()).then(|| query.clone()),
            ..Default::default()
        };
        match pb::Difficulty::try_from(req.difficulty) {
            Ok(pb::Difficulty::Unspecified) => {}
            Ok(d) => f.difficulty = Some(cconv::difficulty_text(d)),
            Err(_) => v.add("difficulty", "unknown value"),
        }
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
        match pb::PremiumFilter::try_from(req.premium_filter) {
            Ok(pb::PremiumFilter::Unspecified) => {}
            Ok(pb::PremiumFilter::PremiumOnly) => f.premium = Some(true),
            Ok(pb::PremiumFilter::FreeOnly) => f.premium = Some(false),
            Err(_) => v.add("premium_filter", "unknown value"),
        }
        if !req.creator_id.is_empty() {
            f.creator = v.check("creator_id", ids::parse_id("creator_id", &req.creator_id));
        }
        match pb::Equipment::try_from(req.equipment) {
            Ok(pb::Equipment::Unspecified) => {}
            Ok(e) => f.equipment = Some(cconv::equipment_text(e)),
            Err(_) => v.add("equipment", "unknown value"),
        }
        match pb::MuscleGroup::try_from(req.muscle_group) {
            Ok(pb::MuscleGroup::Unspecified) => {}
            Ok(g) => f.muscle_group = Some(cconv::group_text(g)),
            Err(_) => v.add("muscle_group", "unknown value"),
        }
        match pb::WorkoutVisibility::try_from(req.visibility) {
            Ok(pb::WorkoutVisibility::Unspecified) => {}
            Ok(vis) => f.visibility = Some(conv::visibility_text(vis)),
            Err(_) => v.add("visibility", "unknown value"),
        }
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE);
        let hash = FilterHash::new()
            .add("category_id", req.category_id.as_bytes())
            .add("difficulty", req.difficulty.to_be_bytes())
            .add("min", req.min_duration_seconds.to_be_bytes())
            .add("max", req.max_duration_seconds.to_be_bytes())
            .add("premium", req.premium_filter.to_be_bytes())
            .add("creator", req.creator_id.as_bytes())
            .add("query", query.as_bytes())
            .add("equipment", req.equipment.to_be_bytes())
            .add("muscle_group", req.muscle_group.to_be_bytes())
            .add("visibility", req.visibility.to_be_bytes())
            .finish();
        let scope = PageScope {
            method: LIST_METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let bad = || ApiError::invalid_field("page_token", "malformed page token");
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(score), Key::Str(id)]) => {
                Some((*score, Uuid::parse_str(id).map_err(|_| bad())?))
            }
            Some(_) => return Err(bad()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &f, after, limit as i64 + 1).await?;
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r| {
                vec![Key::Float(r.score), Key::Str(r.row.id.to_string())]
            });
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
        if row.visibility == "premium" {
            self.require_premium(caller, row.creator_id).await?;
        }
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
            pb::WorkoutVisibility::try_from(conv::visibility_number(&current.visibility))
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
        macro_rules! take {
            ($($field:ident),*) => {$(
                if mask.contains(stringify!($field)) {
                    merged.$field = input.$field.clone();
                }
            )*};
        }
        take!(
            title,
            description,
            difficulty,
            category_ids,
            thumbnail_url,
            duration_seconds,
            estimated_calories
        );
        let fields = header::fields(&mut v, "workout", &merged, Some(vis));
        rules::known_categories(
            &mut tx,
            &mut v,
            "workout.category_ids",
            &fields.category_ids,
        )
        .await?;
        let new_entries = if mask.contains("exercises") {
            Some(
                self.checked_entries(&mut tx, &mut v, caller, &input.exercises)
                    .await?,
            )
        } else {
            None
        };
        v.finish()?;
        let rows = new_entries.as_deref().map(encode).transpose()?;
        let row = store::update(&mut tx, id, &fields, rows.as_deref()).await?;
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
