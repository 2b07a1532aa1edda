//! Categories and the exercise catalog: submission by trainers, review by admins, search.

pub(crate) mod rules;

use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{self, FilterHash, Key};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::fields::{self, Replay, bad_token, copy_masked, optional_enum};
use crate::convert::catalog as conv;
use crate::store::catalog::{self as store, ExerciseFilter, ExerciseRow};

const CATEGORIES_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListCategories";
const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateExercise";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListExercises";
const EXERCISE_PATHS: &[&str] = &[
    "name",
    "description",
    "instructions",
    "primary_muscle_groups",
    "secondary_muscle_groups",
    "primary_muscles",
    "secondary_muscles",
    "equipment",
    "difficulty",
    "mechanics",
    "aliases",
    "category_ids",
    "thumbnail_url",
    "video_url",
];

fn exercise_not_found() -> ApiError {
    ApiError::not_found("exercise")
}

/// A taken name (the unique index on lower(name)) as the contract's ALREADY_EXISTS.
fn name_taken(err: sqlx::Error) -> ApiError {
    match &err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            ApiError::already_exists("EXERCISE_EXISTS", "an exercise with this name exists")
        }
        _ => err.into(),
    }
}

/// Approved exercises are public; others only for their submitter and admins.
fn visible(caller: &UserPrincipal, row: &ExerciseRow) -> bool {
    row.status == "approved" || row.creator_id == Some(caller.id()) || caller.is_admin()
}

impl FitnessService {
    /// Exercises for the wire, with their creators' summaries.
    pub(crate) async fn render_exercises(&self, rows: Vec<ExerciseRow>) -> Vec<pb::Exercise> {
        let creators: Vec<Uuid> = rows.iter().filter_map(|r| r.creator_id).collect();
        let summaries = self.summaries(&creators).await;
        rows.into_iter()
            .map(|r| conv::exercise(r, &summaries))
            .collect()
    }

    async fn render_exercise(&self, row: ExerciseRow) -> Result<pb::Exercise, ApiError> {
        self.render_exercises(vec![row])
            .await
            .pop()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("rendered no exercise")))
    }

    pub async fn list_categories(
        &self,
        caller: &UserPrincipal,
        req: pb::ListCategoriesRequest,
    ) -> Result<pb::ListCategoriesResponse, ApiError> {
        let limit = page::page_size(req.page_size)?;
        let pager = self.pager(caller, CATEGORIES_METHOD, limit, FilterHash::new());
        let after = match pager.keys(&req.page_token)?.as_deref() {
            None => None,
            Some([Key::Str(id)]) => Some(id.clone()),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::categories(&mut conn, after.as_deref(), pager.fetch()).await?;
        let token = pager.next_token(&mut rows, |r| vec![Key::Str(r.id.clone())]);
        Ok(pb::ListCategoriesResponse {
            categories: rows.into_iter().map(conv::category).collect(),
            next_page_token: token,
        })
    }

    pub async fn create_exercise(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateExerciseRequest,
    ) -> Result<pb::CreateExerciseResponse, ApiError> {
        fields::require_publisher(caller, "add exercises")?;
        let exercise = req.exercise.unwrap_or_default();
        let mut v = Violations::new();
        let replay = Replay::new(&mut v, caller, CREATE_METHOD, &req.request_id, &exercise);
        let checked = rules::exercise(&mut v, "exercise", &exercise);
        let mut conn = self.pool.acquire().await?;
        let categories = &checked.category_ids;
        fields::categories(&mut conn, &mut v, "exercise.category_ids", categories).await?;
        drop(conn);
        v.finish()?;

        let status = if caller.is_admin() {
            pb::ExerciseStatus::Approved
        } else {
            pb::ExerciseStatus::PendingReview
        };
        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }
        let row = store::insert(
            &mut tx,
            ids::new_id(),
            caller.id(),
            &conv::status_text(status),
            &checked,
        )
        .await
        .map_err(name_taken)?;
        let response = pb::CreateExerciseResponse {
            exercise: Some(self.render_exercise(row).await?),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_exercises(
        &self,
        caller: &UserPrincipal,
        req: pb::ListExercisesRequest,
    ) -> Result<pb::ListExercisesResponse, ApiError> {
        let mut v = Violations::new();
        let limit = fields::page_size(&mut v, req.page_size);
        let query = req.query.trim().to_string();
        fields::optional_text(&mut v, "query", &query, 100);
        let filter = ExerciseFilter {
            viewer: caller.id(),
            admin: caller.is_admin(),
            query: (!query.is_empty()).then(|| query.clone()),
            group: optional_enum(&mut v, "muscle_group", req.muscle_group).map(conv::group_text),
            muscle: optional_enum(&mut v, "muscle", req.muscle).map(conv::muscle_text),
            equipment: optional_enum(&mut v, "equipment", req.equipment).map(conv::equipment_text),
            mechanics: optional_enum(&mut v, "mechanics", req.mechanics).map(conv::mechanics_text),
            status: optional_enum(&mut v, "status", req.status).map(conv::status_text),
        };
        v.finish()?;

        let filters = FilterHash::new()
            .add("muscle_group", req.muscle_group.to_be_bytes())
            .add("muscle", req.muscle.to_be_bytes())
            .add("equipment", req.equipment.to_be_bytes())
            .add("mechanics", req.mechanics.to_be_bytes())
            .add("status", req.status.to_be_bytes())
            .add("query", query.as_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = match pager.keys(&req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(score), Key::Str(name), Key::Str(id)]) => Some((
                *score,
                name.clone(),
                Uuid::parse_str(id).map_err(|_| bad_token())?,
            )),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &filter, after.as_ref(), pager.fetch()).await?;
        drop(conn);
        let token = pager.next_token(&mut rows, |r| {
            vec![
                Key::Float(r.score),
                Key::Str(r.lname.clone()),
                Key::Str(r.row.id.to_string()),
            ]
        });
        Ok(pb::ListExercisesResponse {
            exercises: self
                .render_exercises(rows.into_iter().map(|r| r.row).collect())
                .await,
            next_page_token: token,
        })
    }

    pub async fn get_exercise(
        &self,
        caller: &UserPrincipal,
        req: pb::GetExerciseRequest,
    ) -> Result<pb::GetExerciseResponse, ApiError> {
        let id = ids::parse_id("exercise_id", &req.exercise_id)?;
        let mut conn = self.pool.acquire().await?;
        let row = store::get(&mut conn, id, false)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or_else(exercise_not_found)?;
        drop(conn);
        Ok(pb::GetExerciseResponse {
            exercise: Some(self.render_exercise(row).await?),
        })
    }

    /// Locks an exercise for a change by its creator or an admin: NOT_FOUND when the
    /// caller cannot see it, PERMISSION_DENIED when they can but may not change it.
    async fn own_exercise(
        conn: &mut sqlx::PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
    ) -> Result<ExerciseRow, ApiError> {
        let row = store::get(conn, id, true)
            .await?
            .filter(|r| visible(caller, r))
            .ok_or_else(exercise_not_found)?;
        if row.creator_id != Some(caller.id()) && !caller.is_admin() {
            return Err(ApiError::permission_denied(
                "only the exercise's creator or an admin may change it",
            ));
        }
        Ok(row)
    }

    pub async fn update_exercise(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateExerciseRequest,
    ) -> Result<pb::UpdateExerciseResponse, ApiError> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), EXERCISE_PATHS)?;
        let input = req.exercise.unwrap_or_default();
        let id = ids::parse_id("exercise.exercise_id", &input.exercise_id)?;
        let mut tx = self.pool.begin().await?;
        let current = Self::own_exercise(&mut tx, caller, id).await?;
        let (status, note) = if caller.is_admin() {
            (current.status.clone(), current.review_note.clone())
        } else {
            (
                conv::status_text(pb::ExerciseStatus::PendingReview),
                String::new(),
            )
        };
        let mut merged = conv::exercise(current, &Default::default());
        merged.primary_muscle_groups =
            rules::explicit_groups(&merged.primary_muscle_groups, &merged.primary_muscles);
        merged.secondary_muscle_groups =
            rules::explicit_groups(&merged.secondary_muscle_groups, &merged.secondary_muscles);
        copy_masked!(mask, merged, input;
            name, description, instructions, primary_muscle_groups, secondary_muscle_groups,
            equipment, difficulty, category_ids, thumbnail_url, video_url, primary_muscles,
            secondary_muscles, mechanics, aliases);
        let mut v = Violations::new();
        let checked = rules::exercise(&mut v, "exercise", &merged);
        let categories = &checked.category_ids;
        fields::categories(&mut tx, &mut v, "exercise.category_ids", categories).await?;
        v.finish()?;
        let row = store::update(&mut tx, id, &status, &note, &checked)
            .await
            .map_err(name_taken)?;
        tx.commit().await?;
        Ok(pb::UpdateExerciseResponse {
            exercise: Some(self.render_exercise(row).await?),
        })
    }

    pub async fn delete_exercise(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteExerciseRequest,
    ) -> Result<pb::DeleteExerciseResponse, ApiError> {
        let id = ids::parse_id("exercise_id", &req.exercise_id)?;
        let mut tx = self.pool.begin().await?;
        Self::own_exercise(&mut tx, caller, id).await?;
        let in_use =
            || ApiError::failed_precondition("EXERCISE_IN_USE", "a workout uses this exercise");
        if store::in_use(&mut tx, id).await? {
            return Err(in_use());
        }
        match store::delete(&mut tx, id).await {
            Ok(true) => {}
            Ok(false) => return Err(exercise_not_found()),
            // A workout took it up between the check and the delete.
            Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23503") => {
                return Err(in_use());
            }
            Err(err) => return Err(err.into()),
        }
        tx.commit().await?;
        Ok(pb::DeleteExerciseResponse {})
    }

    pub async fn review_exercise(
        &self,
        caller: &UserPrincipal,
        req: pb::ReviewExerciseRequest,
    ) -> Result<pb::ReviewExerciseResponse, ApiError> {
        if !caller.is_admin() {
            return Err(ApiError::permission_denied("only admins review exercises"));
        }
        let mut v = Violations::new();
        let id = fields::required_id(&mut v, "exercise_id", &req.exercise_id);
        let decision =
            fields::required_enum::<pb::ReviewDecision>(&mut v, "decision", req.decision);
        let status = decision.map(|d| match d {
            pb::ReviewDecision::Reject => pb::ExerciseStatus::Rejected,
            _ => pb::ExerciseStatus::Approved,
        });
        fields::optional_text(&mut v, "note", &req.note, 500);
        v.finish()?;
        let (Some(id), Some(status)) = (id, status) else {
            return Err(ApiError::invalid_field("exercise_id", "is required"));
        };
        let mut conn = self.pool.acquire().await?;
        let row = store::review(&mut conn, id, &conv::status_text(status), req.note.trim())
            .await?
            .ok_or_else(exercise_not_found)?;
        drop(conn);
        Ok(pb::ReviewExerciseResponse {
            exercise: Some(self.render_exercise(row).await?),
        })
    }
}
