//! Progress logs: LogProgress (target vs actual), listing, edits and deletion.

pub(super) mod fields;
mod link;
mod log;
mod records;

use std::collections::HashMap;

use chrono::{SubsecRound, Utc};
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::page;
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use self::fields::ExerciseInput;
use super::FitnessService;
use super::fields::{copy_masked, optional_text, past_time};
use crate::convert::progress as convert;
use crate::store::catalog::{self, ExerciseFacts};
use crate::store::progress::{self as store, FullLog};

const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListUserProgress";
const WRITABLE: [&str; 8] = [
    "title",
    "duration_seconds",
    "calories",
    "exercises",
    "perceived_exertion",
    "rating",
    "notes",
    "completed_time",
];

fn log_not_found() -> ApiError {
    ApiError::not_found("progress log")
}

fn not_owner() -> ApiError {
    ApiError::permission_denied("only the owner may change a progress log")
}

/// Exercise names by id (at read time), for display.
pub(super) async fn names_of(
    conn: &mut PgConnection,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    let mut ids: Vec<Uuid> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(catalog::exercise_facts(conn, &ids)
        .await?
        .into_iter()
        .map(|(id, facts)| (id, facts.name))
        .collect())
}

fn exercise_ids(full: &[FullLog]) -> Vec<Uuid> {
    full.iter()
        .flat_map(|f| f.exercises.iter().map(|(e, _)| e.exercise_id))
        .collect()
}

impl FitnessService {
    /// The catalog facts of the exercises a caller logs: NOT_FOUND when one is unknown,
    /// or not approved and neither theirs nor the caller an admin.
    pub(super) async fn usable_exercises(
        &self,
        conn: &mut PgConnection,
        caller: &UserPrincipal,
        exercises: &[ExerciseInput],
    ) -> Result<HashMap<Uuid, ExerciseFacts>, ApiError> {
        let mut ids: Vec<Uuid> = exercises.iter().map(|e| e.exercise_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let facts = catalog::exercise_facts(conn, &ids).await?;
        for id in &ids {
            let usable = facts
                .get(id)
                .is_some_and(|f| f.usable_by(caller.id(), caller.is_admin()));
            if !usable {
                return Err(
                    ApiError::not_found("exercise").with_info("exercise_id", id.to_string())
                );
            }
        }
        Ok(facts)
    }

    /// A log as the proto message, with exercise names.
    async fn render_log(
        &self,
        conn: &mut PgConnection,
        full: FullLog,
    ) -> Result<pb::ProgressLog, ApiError> {
        let names = names_of(conn, exercise_ids(std::slice::from_ref(&full))).await?;
        Ok(convert::progress_log(&full, &names))
    }

    pub async fn list_user_progress(
        &self,
        caller: &UserPrincipal,
        req: pb::ListUserProgressRequest,
    ) -> Result<pb::ListUserProgressResponse, ApiError> {
        let (pager, window) = self.user_window(caller, LIST_METHOD, &req).await?;
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::page(&mut conn, &window).await?;
        let next_page_token =
            pager.next_token(&mut rows, |r| page::time_id_keys(r.completed_at, r.id));
        let full = store::hydrate(&mut conn, rows).await?;
        let names = names_of(&mut conn, exercise_ids(&full)).await?;
        Ok(pb::ListUserProgressResponse {
            progress_logs: full
                .iter()
                .map(|f| convert::progress_log(f, &names))
                .collect(),
            next_page_token,
        })
    }

    pub async fn update_progress_log(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateProgressLogRequest,
    ) -> Result<pb::UpdateProgressLogResponse, ApiError> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), &WRITABLE)?;
        let input = req.progress_log.unwrap_or_default();
        let now = Utc::now();
        let mut v = Violations::new();
        let id = v.check(
            "progress_log.progress_log_id",
            ids::parse_id("progress_log_id", &input.progress_log_id)
                .map_err(|_| "is not a valid id"),
        );
        let has = |path: &str| mask.contains(path);
        if has("title") {
            optional_text(&mut v, "progress_log.title", &input.title, 100);
        }
        if has("duration_seconds") {
            fields::check_duration(
                &mut v,
                "progress_log.duration_seconds",
                input.duration_seconds,
            );
        }
        if has("calories") {
            fields::check_calories(&mut v, "progress_log.calories", input.calories);
        }
        if has("perceived_exertion") {
            fields::check_exertion(
                &mut v,
                "progress_log.perceived_exertion",
                input.perceived_exertion,
            );
        }
        if has("rating") {
            fields::check_rating(&mut v, "progress_log.rating", input.rating);
        }
        if has("notes") {
            optional_text(&mut v, "progress_log.notes", &input.notes, 2000);
        }
        let completed_at = if has("completed_time") {
            if input.completed_time.is_none() {
                v.add("progress_log.completed_time", "is required");
            }
            Some(past_time(
                &mut v,
                "progress_log.completed_time",
                input.completed_time.as_ref(),
                now,
            ))
        } else {
            None
        };
        let exercises = has("exercises").then(|| {
            fields::check_exercises(&mut v, "progress_log.exercises", &input.exercises, true)
        });
        v.finish()?;
        let id = id.ok_or_else(log_not_found)?;
        let user = caller.id();

        let mut tx = self.pool.begin().await?;
        store::lock_user(&mut tx, user).await?;
        let mut log = store::lock_log(&mut tx, id)
            .await?
            .ok_or_else(log_not_found)?;
        if log.user_id != user {
            return Err(not_owner());
        }
        copy_masked!(mask, log, input;
            title, duration_seconds, calories, perceived_exertion, rating, notes);
        if let Some(at) = completed_at {
            log.completed_at = at.trunc_subsecs(6);
        }
        if let Some(exercises) = &exercises {
            self.usable_exercises(&mut tx, caller, exercises).await?;
            let links = exercises.iter().any(|e| e.workout_position > 0);
            let workout = match log.workout_id {
                Some(workout_id) if links => {
                    Some(self.workout_for(caller, workout_id, true).await?)
                }
                _ => None,
            };
            let mut v = Violations::new();
            let built = link::build(
                &mut v,
                "progress_log.exercises",
                id,
                log.completed_at,
                exercises,
                workout.as_ref(),
            );
            v.finish()?;
            store::replace_exercises(&mut tx, id, user, &built.exercises).await?;
            log.volume_kg = built.volume_kg;
        }
        log.updated_at = store::update_log(&mut tx, &log).await?;
        crate::service::challenges::on_session_logged(&mut tx, user, log.completed_at).await?;
        let full = store::hydrate(&mut tx, vec![log])
            .await?
            .pop()
            .ok_or_else(log_not_found)?;
        let progress_log = self.render_log(&mut tx, full).await?;
        tx.commit().await?;
        Ok(pb::UpdateProgressLogResponse {
            progress_log: Some(progress_log),
        })
    }

    pub async fn delete_progress_log(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteProgressLogRequest,
    ) -> Result<pb::DeleteProgressLogResponse, ApiError> {
        let id = ids::parse_id("progress_log_id", &req.progress_log_id)?;
        let mut tx = self.pool.begin().await?;
        store::lock_user(&mut tx, caller.id()).await?;
        let log = store::lock_log(&mut tx, id)
            .await?
            .ok_or_else(log_not_found)?;
        if log.user_id != caller.id() {
            return Err(not_owner());
        }
        if log.enrollment_id.is_some() && log.program_day_number > 0 {
            crate::service::programs::release_log(&mut tx, id).await?;
        }
        store::delete_log(&mut tx, id).await?;
        tx.commit().await?;
        Ok(pb::DeleteProgressLogResponse {})
    }
}
