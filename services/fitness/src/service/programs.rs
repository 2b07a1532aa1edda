//! Programs (weeks x days of workouts), enrollments (pause, resume, leave) and AssignProgram.
//! The functions at the bottom are what progress logging calls inside its transactions.

mod create;
mod enrollments;
mod read;
mod start;

use tribe_kit::ApiError;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;

use crate::store::programs::{self as store, EnrollmentState};

/// Reason of the FAILED_PRECONDITION of a paused, left (or, where named, completed)
/// enrollment.
pub const ENROLLMENT_NOT_ACTIVE: &str = "ENROLLMENT_NOT_ACTIVE";

pub(crate) fn program_not_found() -> ApiError {
    ApiError::not_found("program")
}

pub(crate) fn enrollment_not_found() -> ApiError {
    ApiError::not_found("enrollment")
}

pub(crate) fn not_active(state: EnrollmentState) -> ApiError {
    ApiError::failed_precondition(
        ENROLLMENT_NOT_ACTIVE,
        format!("the enrollment is {}", state.as_str()),
    )
}

/// What logging a session against an enrollment day did.
#[derive(Debug, Clone)]
pub struct DayCompleted {
    pub program_id: uuid::Uuid,
    /// The day's workout (filled into the log when it named none).
    pub workout_id: Option<uuid::Uuid>,
    /// The trainer who assigned the program; `None` when self-enrolled.
    pub assigned_by: Option<uuid::Uuid>,
}

/// `user`'s enrollment for a log: NOT_FOUND unless theirs, ENROLLMENT_NOT_ACTIVE when
/// paused or left (a completed one may still be logged against).
async fn loggable(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    enrollment_id: uuid::Uuid,
    lock: bool,
) -> Result<store::EnrollmentRow, ApiError> {
    let row = store::enrollment(conn, user, enrollment_id, lock)
        .await?
        .ok_or_else(enrollment_not_found)?;
    match row.state() {
        EnrollmentState::Active | EnrollmentState::Completed => Ok(row),
        state => Err(not_active(state)),
    }
}

/// The enrollment a log names, for a log without a program day: NOT_FOUND unless it is
/// `user`'s; FAILED_PRECONDITION ENROLLMENT_NOT_ACTIVE when paused or left.
pub(crate) async fn enrollment_context(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    enrollment_id: uuid::Uuid,
) -> Result<DayCompleted, ApiError> {
    let row = loggable(conn, user, enrollment_id, false).await?;
    Ok(DayCompleted {
        program_id: row.program_id,
        workout_id: None,
        assigned_by: row.assigned_by_id,
    })
}

/// Marks `day_number` of `user`'s enrollment completed by `log_id` (inside the log's
/// transaction); completing the last workout day completes the enrollment and enqueues
/// ProgramCompleted. NOT_FOUND unless the enrollment is `user`'s; INVALID_ARGUMENT on
/// `progress_log.program_day_number` unless it is a workout day; FAILED_PRECONDITION
/// ENROLLMENT_NOT_ACTIVE when paused or left. Logging a completed day again is allowed.
pub(crate) async fn complete_day(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    enrollment_id: uuid::Uuid,
    day_number: i32,
    log_id: uuid::Uuid,
    completed_at: chrono::DateTime<chrono::Utc>,
) -> Result<DayCompleted, ApiError> {
    let row = loggable(conn, user, enrollment_id, true).await?;
    let days = store::days(conn, row.program_id).await?;
    let Some(workout_id) = days
        .iter()
        .find(|d| d.day_number == day_number)
        .and_then(|d| d.workout_id)
    else {
        return Err(ApiError::invalid_field(
            "progress_log.program_day_number",
            "is not a workout day of the enrollment's program",
        ));
    };
    store::insert_completion(conn, row.id, day_number, log_id, completed_at).await?;
    if row.state() == EnrollmentState::Active {
        let done = store::completed_days(conn, &[row.id])
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        let all_done = days
            .iter()
            .filter(|d| d.workout_id.is_some())
            .all(|d| done.binary_search(&d.day_number).is_ok());
        if all_done {
            store::set_state(conn, row.id, EnrollmentState::Completed, completed_at).await?;
            let program = store::program(conn, row.program_id)
                .await?
                .ok_or_else(program_not_found)?;
            super::emit(
                conn,
                program.id,
                user,
                Payload::ProgramCompleted(events::ProgramCompleted {
                    enrollment_id: row.id.to_string(),
                    user_id: user.to_string(),
                    program_id: program.id.to_string(),
                    program_creator_id: program.creator_id.to_string(),
                    assigned_by_id: row
                        .assigned_by_id
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                    program_title: program.title.clone(),
                }),
            )
            .await?;
        }
    }
    Ok(DayCompleted {
        program_id: row.program_id,
        workout_id: Some(workout_id),
        assigned_by: row.assigned_by_id,
    })
}

/// Un-completes the days `log_id` completed (the log is being deleted); a COMPLETED
/// enrollment becomes ACTIVE again.
pub(crate) async fn release_log(
    conn: &mut sqlx::PgConnection,
    log_id: uuid::Uuid,
) -> Result<(), ApiError> {
    let mut enrollments = store::delete_completions(conn, log_id).await?;
    enrollments.sort_unstable();
    enrollments.dedup();
    if !enrollments.is_empty() {
        store::reopen_incomplete(conn, &enrollments).await?;
    }
    Ok(())
}
