//! LogProgress: validate, resolve the workout and program day, link sets to their
//! prescription, store, and enqueue WorkoutCompleted and records, in one transaction.

use chrono::{SubsecRound, Utc};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::{fields, link, records};
use crate::convert::{progress as convert, timestamp};
use crate::service::fields::{Replay, optional_id, optional_text, past_time, workout_creator};
use crate::service::stats::calendar;
use crate::service::{FitnessService, emit, programs};
use crate::store::progress::{self as store, FullLog, LogRow};

const METHOD: &str = "/trainertribe.fitness.v1.FitnessService/LogProgress";

/// The request's meaningful parameters, for detecting a reused request_id.
fn params(log: &pb::ProgressLog) -> pb::ProgressLog {
    let mut params = log.clone();
    params.progress_log_id.clear();
    params.user_id.clear();
    params.program_id.clear();
    params.volume_kg = 0.0;
    params.create_time = None;
    params.update_time = None;
    for exercise in &mut params.exercises {
        exercise.exercise_name.clear();
        for set in &mut exercise.sets {
            set.target_met = false;
        }
    }
    params
}

impl FitnessService {
    /// The workout a session is logged against, with its entries: a PREMIUM one needs
    /// premium, as reading it does.
    async fn loggable_workout(
        &self,
        caller: &UserPrincipal,
        id: Uuid,
    ) -> Result<pb::Workout, ApiError> {
        let workout = self.workout_for(caller, id, true).await?;
        self.premium_workout_gate(caller, &workout).await?;
        Ok(workout)
    }

    pub async fn log_progress(
        &self,
        caller: &UserPrincipal,
        req: pb::LogProgressRequest,
    ) -> Result<pb::LogProgressResponse, ApiError> {
        let input = req.progress_log.clone().unwrap_or_default();
        let now = Utc::now().trunc_subsecs(6);
        let mut v = Violations::new();
        let workout_id = optional_id(&mut v, "progress_log.workout_id", &input.workout_id);
        let enrollment_id = optional_id(&mut v, "progress_log.enrollment_id", &input.enrollment_id);
        let day = input.program_day_number;
        if !(0..=365).contains(&day) {
            v.add(
                "progress_log.program_day_number",
                "must be 1-365, or 0 for none",
            );
        } else if day > 0 && input.enrollment_id.is_empty() {
            v.add("progress_log.program_day_number", "needs enrollment_id");
        }
        optional_text(&mut v, "progress_log.title", &input.title, 100);
        fields::check_duration(
            &mut v,
            "progress_log.duration_seconds",
            input.duration_seconds,
        );
        fields::check_calories(&mut v, "progress_log.calories", input.calories);
        fields::check_exertion(
            &mut v,
            "progress_log.perceived_exertion",
            input.perceived_exertion,
        );
        fields::check_rating(&mut v, "progress_log.rating", input.rating);
        optional_text(&mut v, "progress_log.notes", &input.notes, 2000);
        let completed_at = past_time(
            &mut v,
            "progress_log.completed_time",
            input.completed_time.as_ref(),
            now,
        )
        .trunc_subsecs(6);
        let may_link = !input.workout_id.is_empty() || (day > 0 && !input.enrollment_id.is_empty());
        let exercises =
            fields::check_exercises(&mut v, "progress_log.exercises", &input.exercises, may_link);
        let replay = Replay::new(&mut v, caller, METHOD, &req.request_id, &params(&input));
        v.finish()?;

        let user = caller.id();
        let mut workout = match workout_id {
            Some(id) => Some(self.loggable_workout(caller, id).await?),
            None => None,
        };
        let facts = {
            let mut conn = self.pool.acquire().await?;
            self.usable_exercises(&mut conn, caller, &exercises).await?
        };
        let zone = self.time_zone_of(user, "", "time_zone").await?;

        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }
        store::lock_user(&mut tx, user).await?;
        let id = ids::new_id();
        let mut log = LogRow {
            id,
            user_id: user,
            workout_id,
            workout_creator_id: workout.as_ref().and_then(workout_creator),
            enrollment_id,
            program_id: None,
            program_day_number: day,
            title: input.title.clone(),
            duration_seconds: input.duration_seconds,
            calories: input.calories,
            volume_kg: 0.0,
            perceived_exertion: input.perceived_exertion,
            rating: input.rating,
            notes: input.notes.clone(),
            completed_at,
            created_at: now,
            updated_at: now,
        };
        // The row exists before the program day points at it.
        store::insert_log(&mut tx, &log).await?;
        let context = match enrollment_id {
            Some(enrollment) if day > 0 => Some(
                programs::complete_day(&mut tx, user, enrollment, day, id, completed_at).await?,
            ),
            Some(enrollment) => {
                Some(programs::enrollment_context(&mut tx, user, enrollment).await?)
            }
            None => None,
        };
        if let Some(context) = &context {
            log.program_id = Some(context.program_id);
            if log.workout_id.is_none()
                && let Some(day_workout) = context.workout_id
            {
                // The transaction rolls back when premium is missing: nothing is written.
                let found = self.loggable_workout(caller, day_workout).await?;
                log.workout_id = Some(day_workout);
                log.workout_creator_id = workout_creator(&found);
                workout = Some(found);
            }
        }
        let workout_title = workout
            .as_ref()
            .map(|w| w.title.clone())
            .unwrap_or_default();
        if log.title.is_empty() {
            log.title = workout_title.clone();
        }
        let mut v = Violations::new();
        let built = link::build(
            &mut v,
            "progress_log.exercises",
            id,
            completed_at,
            &exercises,
            workout.as_ref(),
        );
        v.finish()?;
        log.volume_kg = built.volume_kg;
        let before = records::bests_before(&mut tx, user, &built.exercises).await?;
        store::replace_exercises(&mut tx, id, user, &built.exercises).await?;
        store::set_context(&mut tx, &log).await?;

        let total_workouts = store::count(&mut tx, user).await?;
        let days = calendar::days_of(store::completion_times(&mut tx, user).await?, zone);
        let (current_streak_days, _) =
            calendar::streaks(&days, calendar::local_date(Utc::now(), zone));
        let opt = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        emit(
            &mut tx,
            user,
            user,
            Payload::WorkoutCompleted(events::WorkoutCompleted {
                user_id: user.to_string(),
                progress_log_id: id.to_string(),
                workout_id: opt(log.workout_id),
                workout_creator_id: opt(log.workout_creator_id),
                enrollment_id: opt(log.enrollment_id),
                program_id: opt(log.program_id),
                program_day_number: log.program_day_number,
                duration_seconds: log.duration_seconds,
                calories: log.calories,
                volume_kg: log.volume_kg,
                completed_time: Some(timestamp(completed_at)),
                assigned_by_id: opt(context.as_ref().and_then(|c| c.assigned_by)),
                current_streak_days,
                total_workouts,
                title: if workout_title.is_empty() {
                    log.title.clone()
                } else {
                    workout_title
                },
            }),
        )
        .await?;
        let names = facts.iter().map(|(id, f)| (*id, f.name.clone())).collect();
        records::emit_records(&mut tx, user, id, &built.exercises, &before, &names).await?;
        crate::service::challenges::on_session_logged(&mut tx, user, completed_at).await?;

        let full = FullLog {
            log,
            exercises: built.exercises,
        };
        let response = pb::LogProgressResponse {
            progress_log: Some(convert::progress_log(&full, &names)),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }
}
