//! Programs (weeks x days of workouts), enrollments (pause, resume, leave) and AssignProgram.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn create_program(
        &self,
        _caller: &UserPrincipal,
        _req: pb::CreateProgramRequest,
    ) -> Result<pb::CreateProgramResponse, ApiError> {
        Err(super::not_built("CreateProgram"))
    }

    pub async fn list_programs(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListProgramsRequest,
    ) -> Result<pb::ListProgramsResponse, ApiError> {
        Err(super::not_built("ListPrograms"))
    }

    pub async fn get_program(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetProgramRequest,
    ) -> Result<pb::GetProgramResponse, ApiError> {
        Err(super::not_built("GetProgram"))
    }

    pub async fn enroll_in_program(
        &self,
        _caller: &UserPrincipal,
        _req: pb::EnrollInProgramRequest,
    ) -> Result<pb::EnrollInProgramResponse, ApiError> {
        Err(super::not_built("EnrollInProgram"))
    }

    pub async fn list_my_enrollments(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListMyEnrollmentsRequest,
    ) -> Result<pb::ListMyEnrollmentsResponse, ApiError> {
        Err(super::not_built("ListMyEnrollments"))
    }

    pub async fn pause_enrollment(
        &self,
        _caller: &UserPrincipal,
        _req: pb::PauseEnrollmentRequest,
    ) -> Result<pb::PauseEnrollmentResponse, ApiError> {
        Err(super::not_built("PauseEnrollment"))
    }

    pub async fn resume_enrollment(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ResumeEnrollmentRequest,
    ) -> Result<pb::ResumeEnrollmentResponse, ApiError> {
        Err(super::not_built("ResumeEnrollment"))
    }

    pub async fn leave_enrollment(
        &self,
        _caller: &UserPrincipal,
        _req: pb::LeaveEnrollmentRequest,
    ) -> Result<pb::LeaveEnrollmentResponse, ApiError> {
        Err(super::not_built("LeaveEnrollment"))
    }

    pub async fn assign_program(
        &self,
        _caller: &UserPrincipal,
        _req: pb::AssignProgramRequest,
    ) -> Result<pb::AssignProgramResponse, ApiError> {
        Err(super::not_built("AssignProgram"))
    }
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

/// The enrollment a log names, for a log without a program day: NOT_FOUND unless it is
/// `user`'s; FAILED_PRECONDITION ENROLLMENT_NOT_ACTIVE when paused or left.
pub(crate) async fn enrollment_context(
    _conn: &mut sqlx::PgConnection,
    _user: uuid::Uuid,
    _enrollment_id: uuid::Uuid,
) -> Result<DayCompleted, ApiError> {
    Err(super::not_built("enrollment_context"))
}

/// Marks `day_number` of `user`'s enrollment completed by `log_id` (inside the log's
/// transaction); completing the last workout day completes the enrollment and enqueues
/// ProgramCompleted. NOT_FOUND unless the enrollment is `user`'s; INVALID_ARGUMENT on
/// `progress_log.program_day_number` unless it is a workout day; FAILED_PRECONDITION
/// ENROLLMENT_NOT_ACTIVE when paused or left. Logging a completed day again is allowed.
pub(crate) async fn complete_day(
    _conn: &mut sqlx::PgConnection,
    _user: uuid::Uuid,
    _enrollment_id: uuid::Uuid,
    _day_number: i32,
    _log_id: uuid::Uuid,
    _completed_at: chrono::DateTime<chrono::Utc>,
) -> Result<DayCompleted, ApiError> {
    Err(super::not_built("complete_day"))
}

/// Un-completes the days `log_id` completed (the log is being deleted); a COMPLETED
/// enrollment becomes ACTIVE again.
pub(crate) async fn release_log(
    _conn: &mut sqlx::PgConnection,
    _log_id: uuid::Uuid,
) -> Result<(), ApiError> {
    Err(super::not_built("release_log"))
}
