//! Tests of enrollments: the pause, resume and leave state machine, history lists,
//! premium enrollment and idempotent EnrollInProgram retries.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{assert_status, request_id, start, violated_fields};
use crate::fixtures::{
    create_program, enroll, events, get_program, my_enrollments, payloads, set_state,
    squat_workout, workout_day,
};

#[tokio::test]
async fn enrollments_pause_resume_and_leave() {
    let env = start().await;
    let trainer = env.trainer();
    let (workout, _) = squat_workout(&env, &trainer).await;
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
            ..Default::default()
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
    let list = |status| my_enrollments(&env, &member, status);
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
    let all = pb::EnrollmentStatus::Unspecified;
    assert!(my_enrollments(&env, &stranger, all).await.is_empty());
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
    let (workout, _) = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], true).await;
    assert!(program.is_premium);
    let free = env.member();
    let preview = get_program(&env, &free, &program.program_id).await;
    assert_eq!(preview.days.len(), 1);
    let status = env
        .client()
        .enroll_in_program(free.req(pb::EnrollInProgramRequest {
            program_id: program.program_id.clone(),
            request_id: request_id(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    let all = pb::EnrollmentStatus::Unspecified;
    assert!(my_enrollments(&env, &free, all).await.is_empty());
    let paid = env.premium_member();
    let enrollment = enroll(&env, &paid, &program.program_id).await;
    assert_eq!(enrollment.status, pb::EnrollmentStatus::Active as i32);
}

#[tokio::test]
async fn enroll_retries_replay_one_enrollment_and_one_event() {
    let env = start().await;
    let trainer = env.trainer();
    let (workout, _) = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let other = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let member = env.member();
    let key = request_id();
    let call = |program_id: String, key: String| {
        let mut client = env.client();
        let req = member.req(pb::EnrollInProgramRequest {
            program_id,
            request_id: key,
            ..Default::default()
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
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    assert_eq!(violated_fields(&status), ["request_id"]);
    // request_id is optional; a malformed one is refused.
    let status = call(other.program_id.clone(), "k".repeat(65))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["request_id"]);
    let keyless = call(other.program_id.clone(), String::new())
        .await
        .unwrap()
        .into_inner()
        .enrollment
        .unwrap();
    assert_eq!(keyless.program_id, other.program_id);
    let status = call(program.program_id.clone(), request_id())
        .await
        .unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_ENROLLED"));
    let status = call(uuid::Uuid::now_v7().to_string(), request_id())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let got = get_program(&env, &member, &program.program_id).await;
    assert_eq!(got.enrollment_count, 1);

    let events = events(&env, 2).await;
    let enrolled: Vec<_> = payloads!(events, ProgramEnrolled)
        .into_iter()
        .filter(|p| p.program_id == program.program_id)
        .collect();
    assert_eq!(enrolled.len(), 1, "{enrolled:?}");
    assert_eq!(enrolled[0].enrollment_id, first.enrollment_id);
    assert_eq!(enrolled[0].user_id, member.id_str());
    assert_eq!(enrolled[0].program_creator_id, trainer.id_str());
}
