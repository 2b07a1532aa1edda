//! Tests of enrollments: the pause, resume and leave state machine, history lists,
//! premium enrollment and idempotent EnrollInProgram retries.

use std::time::Duration;

use tonic::Code;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;

use super::{create_program, enroll, squat_workout, workout_day};
use crate::common::{Env, Person, assert_status, request_id, start};

async fn set_state(
    env: &Env,
    who: &Person,
    id: &str,
    to: &str,
) -> Result<pb::Enrollment, tonic::Status> {
    let mut client = env.client();
    let enrollment_id = id.to_string();
    let result = match to {
        "pause" => client
            .pause_enrollment(who.req(pb::PauseEnrollmentRequest { enrollment_id }))
            .await
            .map(|r| r.into_inner().enrollment),
        "resume" => client
            .resume_enrollment(who.req(pb::ResumeEnrollmentRequest { enrollment_id }))
            .await
            .map(|r| r.into_inner().enrollment),
        _ => client
            .leave_enrollment(who.req(pb::LeaveEnrollmentRequest { enrollment_id }))
            .await
            .map(|r| r.into_inner().enrollment),
    };
    result.map(|e| e.expect("enrollment"))
}

#[tokio::test]
async fn enrollments_pause_resume_and_leave() {
    let env = start().await;
    let trainer = env.trainer();
    let workout = squat_workout(&env, &trainer).await;
    let program = create_program(
        &env,
        &trainer,
        vec![workout_day(1, &workout), workout_day(3, &workout)],
        false,
    )
    .await;
    let member = env.member();
    let enrollment = enroll(&env, &member, &program.program_id).await;
    assert_eq!(enrollment.status, pb::EnrollmentStatus::Active as i32);
    assert_eq!(enrollment.next_day_number, 1);
    assert_eq!(enrollment.user_id, member.id_str());
    assert!(enrollment.assigned_by_id.is_empty());
    let id = enrollment.enrollment_id.clone();

    // Another user sees nothing of it.
    let stranger = env.member();
    let status = set_state(&env, &stranger, &id, "pause").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let paused = set_state(&env, &member, &id, "pause").await.unwrap();
    assert_eq!(paused.status, pb::EnrollmentStatus::Paused as i32);
    assert!(paused.pause_time.is_some());
    let again = set_state(&env, &member, &id, "pause").await.unwrap();
    assert_eq!(again.pause_time, paused.pause_time);
    // While paused, enrolling again is refused too.
    let status = env
        .client()
        .enroll_in_program(member.req(pb::EnrollInProgramRequest {
            program_id: program.program_id.clone(),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_ENROLLED"));

    let resumed = set_state(&env, &member, &id, "resume").await.unwrap();
    assert_eq!(resumed.status, pb::EnrollmentStatus::Active as i32);
    assert!(resumed.pause_time.is_none());
    set_state(&env, &member, &id, "resume").await.unwrap();

    let left = set_state(&env, &member, &id, "leave").await.unwrap();
    assert_eq!(left.status, pb::EnrollmentStatus::Left as i32);
    assert!(left.leave_time.is_some());
    set_state(&env, &member, &id, "leave").await.unwrap();
    for to in ["pause", "resume"] {
        let status = set_state(&env, &member, &id, to).await.unwrap_err();
        assert_status(
            &status,
            Code::FailedPrecondition,
            Some("ENROLLMENT_NOT_ACTIVE"),
        );
    }

    // History keeps the left one; a new enrollment is allowed.
    let fresh = enroll(&env, &member, &program.program_id).await;
    let list = |status: pb::EnrollmentStatus| {
        let mut client = env.client();
        let req = member.req(pb::ListMyEnrollmentsRequest {
            status: status as i32,
            ..Default::default()
        });
        async move {
            client
                .list_my_enrollments(req)
                .await
                .unwrap()
                .into_inner()
                .enrollments
        }
    };
    let all: Vec<String> = list(pb::EnrollmentStatus::Unspecified)
        .await
        .into_iter()
        .map(|e| e.enrollment_id)
        .collect();
    assert_eq!(all, vec![fresh.enrollment_id.clone(), id.clone()]);
    let left_only = list(pb::EnrollmentStatus::Left).await;
    assert_eq!(left_only.len(), 1);
    assert_eq!(left_only[0].enrollment_id, id);
    assert_eq!(left_only[0].program.as_ref().unwrap().title, "Squat cycle");
    assert!(list(pb::EnrollmentStatus::Paused).await.is_empty());
    assert!(
        env.client()
            .list_my_enrollments(stranger.req(pb::ListMyEnrollmentsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .enrollments
            .is_empty()
    );
    let first_page = env
        .client()
        .list_my_enrollments(member.req(pb::ListMyEnrollmentsRequest {
            page_size: 1,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first_page.enrollments.len(), 1);
    // Another caller cannot use the token.
    let status = env
        .client()
        .list_my_enrollments(stranger.req(pb::ListMyEnrollmentsRequest {
            page_size: 1,
            page_token: first_page.next_page_token,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
}

#[tokio::test]
async fn premium_programs_need_premium_to_enroll_but_preview_for_all() {
    let env = start().await;
    let trainer = env.trainer();
    let workout = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], true).await;
    assert!(program.is_premium);
    let free = env.member();
    let preview = env
        .client()
        .get_program(free.req(pb::GetProgramRequest {
            program_id: program.program_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .program
        .unwrap();
    assert_eq!(preview.days.len(), 1);
    let status = env
        .client()
        .enroll_in_program(free.req(pb::EnrollInProgramRequest {
            program_id: program.program_id.clone(),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    assert!(
        env.client()
            .list_my_enrollments(free.req(pb::ListMyEnrollmentsRequest::default()))
            .await
            .unwrap()
            .into_inner()
            .enrollments
            .is_empty()
    );
    let paid = env.premium_member();
    let enrollment = enroll(&env, &paid, &program.program_id).await;
    assert_eq!(enrollment.status, pb::EnrollmentStatus::Active as i32);
}

#[tokio::test]
async fn enroll_retries_replay_one_enrollment_and_one_event() {
    let env = start().await;
    let trainer = env.trainer();
    let workout = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let other = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let member = env.member();
    let key = request_id();
    let call = |program_id: String, key: String| {
        let mut client = env.client();
        let req = member.req(pb::EnrollInProgramRequest {
            program_id,
            request_id: key,
        });
        async move { client.enroll_in_program(req).await }
    };
    let first = call(program.program_id.clone(), key.clone())
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    let retry = call(program.program_id.clone(), key.clone())
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    assert_eq!(retry.enrollment_id, first.enrollment_id);
    let status = call(other.program_id.clone(), key).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    let status = call(program.program_id.clone(), request_id())
        .await
        .unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_ENROLLED"));
    let status = call(uuid::Uuid::now_v7().to_string(), request_id())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let got = env
        .client()
        .get_program(member.req(pb::GetProgramRequest {
            program_id: program.program_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .program
        .unwrap();
    assert_eq!(got.enrollment_count, 1);

    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.fitness.v1", 1, Duration::from_secs(20))
            .await
            .unwrap();
    let enrolled: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::ProgramEnrolled(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(enrolled.len(), 1, "{enrolled:?}");
    assert_eq!(enrolled[0].enrollment_id, first.enrollment_id);
    assert_eq!(enrolled[0].user_id, member.id_str());
    assert_eq!(enrolled[0].program_creator_id, trainer.id_str());
}
