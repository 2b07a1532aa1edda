//! EnrollInProgram, AssignProgram, ListMyEnrollments and the enrollment state machine
//! (pause, resume, leave).

use chrono::{DateTime, Utc};
use tonic::Code;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::{enrollment_not_found, not_active, program_not_found, start};
use crate::service::fields::{self, Replay};
use crate::service::{FitnessService, emit, premium_required};
use crate::store::coaching::is_active_coach;
use crate::store::programs::{self as store, EnrollmentState, ProgramRow};

const ENROLL_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/EnrollInProgram";
const ASSIGN_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/AssignProgram";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListMyEnrollments";

/// One enrollment to make, under an optional request_id of the caller.
struct Enroll<'a> {
    caller: &'a UserPrincipal,
    replay: Replay<'a>,
    user: Uuid,
    program: &'a ProgramRow,
    assigned_by: Option<Uuid>,
    /// 00:00 of the chosen start date; `None` = now.
    started_at: Option<DateTime<Utc>>,
}

impl FitnessService {
    /// Inserts the enrollment, counts it and enqueues ProgramEnrolled in one transaction;
    /// a retry of the same request_id replays the first result.
    async fn enroll(&self, e: Enroll<'_>) -> Result<pb::Enrollment, ApiError> {
        let mut tx = self.pool.begin().await?;
        if let Some(first) = e.replay.claim(&mut tx).await? {
            return Ok(first);
        }
        let id = ids::new_id();
        if !store::insert_enrollment(
            &mut tx,
            id,
            e.user,
            e.program.id,
            e.assigned_by,
            e.started_at,
        )
        .await?
        {
            return Err(ApiError::already_exists(
                "ALREADY_ENROLLED",
                "an active or paused enrollment in this program exists",
            ));
        }
        store::count_enrollment(&mut tx, e.program.id).await?;
        emit(
            &mut tx,
            e.program.id,
            e.caller.id(),
            Payload::ProgramEnrolled(events::ProgramEnrolled {
                enrollment_id: id.to_string(),
                user_id: e.user.to_string(),
                program_id: e.program.id.to_string(),
                program_creator_id: e.program.creator_id.to_string(),
                is_premium: e.program.is_premium,
            }),
        )
        .await?;
        let row = store::enrollment(&mut tx, e.user, id, false)
            .await?
            .ok_or_else(enrollment_not_found)?;
        let enrollment = self.render_enrollment(&mut tx, row).await?;
        e.replay.complete(&mut tx, &enrollment).await?;
        tx.commit().await?;
        Ok(enrollment)
    }

    /// 00:00 of a non-empty `start_date` in the time zone of `user` (the one enrolled);
    /// violations go to `v`. Without a valid `user` only the date's form is checked.
    async fn start_of(
        &self,
        v: &mut Violations,
        user: Option<Uuid>,
        raw: &str,
    ) -> Result<Option<DateTime<Utc>>, ApiError> {
        let (Some(date), Some(user)) = (start::parse(v, raw), user) else {
            return Ok(None);
        };
        let zone = self.time_zone_of(user, "", "start_date").await?;
        Ok(start::start_instant(v, date, zone, Utc::now()))
    }

    async fn program_row(&self, id: Uuid) -> Result<ProgramRow, ApiError> {
        let mut conn = self.pool.acquire().await?;
        store::program(&mut conn, id)
            .await?
            .ok_or_else(program_not_found)
    }

    pub async fn enroll_in_program(
        &self,
        caller: &UserPrincipal,
        req: pb::EnrollInProgramRequest,
    ) -> Result<pb::EnrollInProgramResponse, ApiError> {
        let mut v = Violations::new();
        let program_id = fields::required_id(&mut v, "program_id", &req.program_id);
        let params = pb::EnrollInProgramRequest {
            request_id: String::new(),
            ..req.clone()
        };
        let replay = Replay::new(&mut v, caller, ENROLL_METHOD, &req.request_id, &params);
        let started_at = self
            .start_of(&mut v, Some(caller.id()), &req.start_date)
            .await?;
        v.finish()?;
        let program_id =
            program_id.ok_or_else(|| ApiError::invalid_field("program_id", "is required"))?;
        let program = self.program_row(program_id).await?;
        self.premium_gate(caller, program.is_premium, program.creator_id)
            .await?;
        let enrollment = self
            .enroll(Enroll {
                caller,
                replay,
                user: caller.id(),
                program: &program,
                assigned_by: None,
                started_at,
            })
            .await?;
        Ok(pb::EnrollInProgramResponse {
            enrollment: Some(enrollment),
        })
    }

    pub async fn assign_program(
        &self,
        caller: &UserPrincipal,
        req: pb::AssignProgramRequest,
    ) -> Result<pb::AssignProgramResponse, ApiError> {
        let mut v = Violations::new();
        let client = fields::required_id(&mut v, "client_id", &req.client_id);
        let program_id = fields::required_id(&mut v, "program_id", &req.program_id);
        let params = pb::AssignProgramRequest {
            request_id: String::new(),
            ..req.clone()
        };
        let replay = Replay::new(&mut v, caller, ASSIGN_METHOD, &req.request_id, &params);
        let started_at = self.start_of(&mut v, client, &req.start_date).await?;
        v.finish()?;
        let (Some(client), Some(program_id)) = (client, program_id) else {
            return Err(ApiError::invalid_field("client_id", "is required"));
        };
        let mut conn = self.pool.acquire().await?;
        let coaching = is_active_coach(&mut conn, caller.id(), client).await?;
        drop(conn);
        if !coaching {
            return Err(ApiError::rejected(
                Code::PermissionDenied,
                "NOT_YOUR_CLIENT",
                "programs can be assigned only to active clients",
            ));
        }
        let program = self.program_row(program_id).await?;
        if program.is_premium && !self.user_is_paid(client).await {
            return Err(premium_required().with_info("client_id", client.to_string()));
        }
        let enrollment = self
            .enroll(Enroll {
                caller,
                replay,
                user: client,
                program: &program,
                assigned_by: Some(caller.id()),
                started_at,
            })
            .await?;
        Ok(pb::AssignProgramResponse {
            enrollment: Some(enrollment),
        })
    }

    pub async fn list_my_enrollments(
        &self,
        caller: &UserPrincipal,
        req: pb::ListMyEnrollmentsRequest,
    ) -> Result<pb::ListMyEnrollmentsResponse, ApiError> {
        let mut v = Violations::new();
        let status = fields::optional_enum::<pb::EnrollmentStatus>(&mut v, "status", req.status);
        let state = status.map(|s| match s {
            pb::EnrollmentStatus::Completed => EnrollmentState::Completed,
            pb::EnrollmentStatus::Paused => EnrollmentState::Paused,
            pb::EnrollmentStatus::Left => EnrollmentState::Left,
            _ => EnrollmentState::Active,
        });
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let filters = FilterHash::new().add("status", req.status.to_be_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = pager.after_time_id(&req.page_token)?;
        let mut conn = self.pool.acquire().await?;
        let mut rows =
            store::list_enrollments(&mut conn, caller.id(), state, after, pager.fetch()).await?;
        let token = pager.next_token(&mut rows, |r| page::time_id_keys(r.started_at, r.id));
        let enrollments = self.render_enrollments(&mut conn, &rows).await?;
        Ok(pb::ListMyEnrollmentsResponse {
            enrollments,
            next_page_token: token,
        })
    }

    /// Moves the caller's enrollment `id` to `target` when `allowed` says how from its
    /// current state: `Ok(true)` change, `Ok(false)` already there, `Err` refused.
    async fn transition(
        &self,
        caller: &UserPrincipal,
        id: &str,
        target: EnrollmentState,
        allowed: fn(EnrollmentState) -> Result<bool, ApiError>,
    ) -> Result<pb::Enrollment, ApiError> {
        let id = ids::parse_id("enrollment_id", id)?;
        let mut tx = self.pool.begin().await?;
        let row = store::enrollment(&mut tx, caller.id(), id, true)
            .await?
            .ok_or_else(enrollment_not_found)?;
        let row = if allowed(row.state())? {
            store::set_state(&mut tx, id, target, Utc::now()).await?
        } else {
            row
        };
        let enrollment = self.render_enrollment(&mut tx, row).await?;
        tx.commit().await?;
        Ok(enrollment)
    }

    pub async fn pause_enrollment(
        &self,
        caller: &UserPrincipal,
        req: pb::PauseEnrollmentRequest,
    ) -> Result<pb::PauseEnrollmentResponse, ApiError> {
        let enrollment = self
            .transition(
                caller,
                &req.enrollment_id,
                EnrollmentState::Paused,
                |s| match s {
                    EnrollmentState::Active => Ok(true),
                    EnrollmentState::Paused => Ok(false),
                    other => Err(not_active(other)),
                },
            )
            .await?;
        Ok(pb::PauseEnrollmentResponse {
            enrollment: Some(enrollment),
        })
    }

    pub async fn resume_enrollment(
        &self,
        caller: &UserPrincipal,
        req: pb::ResumeEnrollmentRequest,
    ) -> Result<pb::ResumeEnrollmentResponse, ApiError> {
        let enrollment = self
            .transition(
                caller,
                &req.enrollment_id,
                EnrollmentState::Active,
                |s| match s {
                    EnrollmentState::Paused => Ok(true),
                    EnrollmentState::Active => Ok(false),
                    other => Err(not_active(other)),
                },
            )
            .await?;
        Ok(pb::ResumeEnrollmentResponse {
            enrollment: Some(enrollment),
        })
    }

    pub async fn leave_enrollment(
        &self,
        caller: &UserPrincipal,
        req: pb::LeaveEnrollmentRequest,
    ) -> Result<pb::LeaveEnrollmentResponse, ApiError> {
        let enrollment = self
            .transition(
                caller,
                &req.enrollment_id,
                EnrollmentState::Left,
                |s| match s {
                    EnrollmentState::Active | EnrollmentState::Paused => Ok(true),
                    EnrollmentState::Left => Ok(false),
                    EnrollmentState::Completed => Err(ApiError::failed_precondition(
                        "ENROLLMENT_COMPLETED",
                        "a completed enrollment cannot be left",
                    )),
                },
            )
            .await?;
        Ok(pb::LeaveEnrollmentResponse {
            enrollment: Some(enrollment),
        })
    }
}
