//! Categories and the exercise catalog: submission by trainers, review by admins, search.

pub(crate) mod rules;

use prost::Message;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use crate::convert::catalog as conv;
use crate::store::catalog::{self as store, ExerciseFilter, ExerciseRow};

const SERVICE: &str = "/trainertribe.fitness.v1.FitnessService/";
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

fn method(name: &str) -> String {
    format!("{SERVICE}{name}")
}

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

fn bad_token() -> ApiError {
    ApiError::invalid_field("page_token", "malformed page token")
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
        let method = method("ListCategories");
        let hash = FilterHash::new().finish();
        let scope = PageScope {
            method: &method,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Str(id)]) => Some(id.clone()),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::categories(&mut conn, after.as_deref(), limit as i64 + 1).await?;
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r| {
                vec![Key::Str(r.id.clone())]
            });
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
        if !(caller.has_role(Role::Trainer) || caller.is_admin()) {
            return Err(ApiError::permission_denied(
                "only trainers and admins add exercises",
            ));
        }
        let exercise = req.exercise.unwrap_or_default();
        let mut v = Violations::new();
        let fields = rules::exercise(&mut v, "exercise", &exercise);
        if !req.request_id.is_empty() {
            v.check("request_id", ids::parse_request_id(&req.request_id));
        }
        let mut conn = self.pool.acquire().await?;
        rules::known_categories(
            &mut conn,
            &mut v,
            "exercise.category_ids",
            &fields.category_ids,
        )
        .await?;
        drop(conn);
        v.finish()?;

        let status = if caller.is_admin() {
            pb::ExerciseStatus::Approved
        } else {
            pb::ExerciseStatus::PendingReview
        };
        let method = method("CreateExercise");
        let hash = idempotency::request_hash(&exercise.encode_to_vec());
        let mut tx = self.pool.begin().await?;
        if !req.request_id.is_empty()
            && let Claim::Replay(bytes) =
                idempotency::claim(&mut tx, caller.subject(), &method, &req.request_id, &hash)
                    .await?
        {
            return pb::CreateExerciseResponse::decode(bytes.as_slice())
                .map_err(ApiError::internal);
        }
        let row = store::insert(
            &mut tx,
            ids::new_id(),
            caller.id(),
            &conv::status_text(status),
            &fields,
        )
        .await
        .map_err(name_taken)?;
        let response = pb::CreateExerciseResponse {
            exercise: Some(self.render_exercise(row).await?),
        };
        if !req.request_id.is_empty() {
            idempotency::complete(
                &mut tx,
                caller.subject(),
                &method,
                &req.request_id,
                &response.encode_to_vec(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_exercises(
        &self,
        caller: &UserPrincipal,
        req: pb::ListExercisesRequest,
    ) -> Result<pb::ListExercisesResponse, ApiError> {
        let mut v = Violations::new();
        let limit = v.check("page_size", page::page_size(req.page_size));
        let query = req.query.trim().to_string();
        if query.chars().count() > 100 {
            v.add("query", "must be at most 100 characters");
        }
        let mut filter = ExerciseFilter {
            viewer: caller.id(),
            admin: caller.is_admin(),
            query: (!query.is_empty()).then(|| query.clone()),
            ..Default::default()
        };
        match pb::MuscleGroup::try_from(req.muscle_group) {
            Ok(pb::MuscleGroup::Unspecified) => {}
            Ok(g) => filter.group = Some(conv::group_text(g)),
            Err(_) => v.add("muscle_group", "unknown value"),
        }
        match pb::Muscle::try_from(req.muscle) {
            Ok(pb::Muscle::Unspecified) => {}
            Ok(m) => filter.muscle = Some(conv::muscle_text(m)),
            Err(_) => v.add("muscle", "unknown value"),
        }
        match pb::Equipment::try_from(req.equipment) {
            Ok(pb::Equipment::Unspecified) => {}
            Ok(e) => filter.equipment = Some(conv::equipment_text(e)),
            Err(_) => v.add("equipment", "unknown value"),
        }
        match pb::Mechanics::try_from(req.mechanics) {
            Ok(pb::Mechanics::Unspecified) => {}
            Ok(m) => filter.mechanics = Some(conv::mechanics_text(m)),
            Err(_) => v.add("mechanics", "unknown value"),
        }
        match pb::ExerciseStatus::try_from(req.status) {
            Ok(pb::ExerciseStatus::Unspecified) => {}
            Ok(s) => filter.status = Some(conv::status_text(s)),
            Err(_) => v.add("status", "unknown value"),
        }
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE);

        let method = method("ListExercises");
        let hash = FilterHash::new()
            .add("muscle_group", req.muscle_group.to_be_bytes())
            .add("muscle", req.muscle.to_be_bytes())
            .add("equipment", req.equipment.to_be_bytes())
            .add("mechanics", req.mechanics.to_be_bytes())
            .add("status", req.status.to_be_bytes())
            .add("query", query.as_bytes())
            .finish();
        let scope = PageScope {
            method: &method,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(score), Key::Str(name), Key::Str(id)]) => Some((
                *score,
                name.clone(),
                Uuid::parse_str(id).map_err(|_| bad_token())?,
            )),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &filter, after.as_ref(), limit as i64 + 1).await?;
        drop(conn);
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r| {
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
        merge(&mut merged, input, &mask);
        let mut v = Violations::new();
        let fields = rules::exercise(&mut v, "exercise", &merged);
        rules::known_categories(
            &mut tx,
            &mut v,
            "exercise.category_ids",
            &fields.category_ids,
        )
        .await?;
        v.finish()?;
        let row = store::update(&mut tx, id, &status, &note, &fields)
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
        let id = v.check(
            "exercise_id",
            ids::parse_id("exercise_id", &req.exercise_id),
        );
        let status = match pb::ReviewDecision::try_from(req.decision) {
            Ok(pb::ReviewDecision::Approve) => Some(pb::ExerciseStatus::Approved),
            Ok(pb::ReviewDecision::Reject) => Some(pb::ExerciseStatus::Rejected),
            Ok(pb::ReviewDecision::Unspecified) => {
                v.add("decision", "is required");
                None
            }
            Err(_) => {
                v.add("decision", "unknown value");
                None
            }
        };
        rules::text(&mut v, "note", &req.note, 500, false);
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

/// Copies the masked fields of `input` onto `target`.
fn merge(target: &mut pb::Exercise, input: pb::Exercise, mask: &UpdateMask) {
    let pb::Exercise {
        name,
        description,
        instructions,
        primary_muscle_groups,
        secondary_muscle_groups,
        equipment,
        difficulty,
        category_ids,
        thumbnail_url,
        video_url,
        primary_muscles,
        secondary_muscles,
        mechanics,
        aliases,
        ..
    } = input;
    macro_rules! take {
        ($($field:ident),*) => {$(
            if mask.contains(stringify!($field)) {
                target.$field = $field;
            }
        )*};
    }
    take!(
        name,
        description,
        instructions,
        primary_muscle_groups,
        secondary_muscle_groups,
        equipment,
        difficulty,
        category_ids,
        thumbnail_url,
        video_url,
        primary_muscles,
        secondary_muscles,
        mechanics,
        aliases
    );
}
