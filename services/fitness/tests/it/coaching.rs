//! Tests of coaching: the invitation lifecycle, who may accept and end, listing, and
//! what an ACTIVE relationship grants (progress reads, AssignProgram) and an ended one
//! no longer does.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{
    Env, Person, assert_status, request_id, start, start_with_users, violated_fields,
};
use crate::fixtures::{self, create_program, my_enrollments, squat_workout, workout_day};

async fn invite(
    env: &Env,
    trainer: &Person,
    client: &Person,
) -> Result<pb::Coaching, tonic::Status> {
    env.client()
        .invite_client(trainer.req(pb::InviteClientRequest {
            client_id: client.id_str(),
        }))
        .await
        .map(|r| r.into_inner().coaching.expect("coaching"))
}

async fn accept(env: &Env, who: &Person, id: &str) -> Result<pb::Coaching, tonic::Status> {
    env.client()
        .accept_coaching(who.req(pb::AcceptCoachingRequest {
            coaching_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().coaching.expect("coaching"))
}

async fn end(env: &Env, who: &Person, id: &str) -> Result<pb::Coaching, tonic::Status> {
    env.client()
        .end_coaching(who.req(pb::EndCoachingRequest {
            coaching_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().coaching.expect("coaching"))
}

/// An ACTIVE relationship of `trainer` and `client`.
pub async fn coach(env: &Env, trainer: &Person, client: &Person) -> pb::Coaching {
    let invited = invite(env, trainer, client).await.expect("invite");
    accept(env, client, &invited.coaching_id)
        .await
        .expect("accept")
}

async fn list(
    env: &Env,
    who: &Person,
    side: pb::CoachingSide,
    status: pb::CoachingStatus,
) -> Vec<pb::Coaching> {
    env.client()
        .list_coachings(who.req(pb::ListCoachingsRequest {
            side: side as i32,
            status: status as i32,
            ..Default::default()
        }))
        .await
        .expect("list coachings")
        .into_inner()
        .coachings
}

#[tokio::test]
async fn invitation_lifecycle_and_who_may_act() {
    let env = start().await;
    let trainer = env.trainer();
    let other_trainer = env.trainer();
    let client = env.member();
    let stranger = env.member();

    let invited = invite(&env, &trainer, &client).await.unwrap();
    assert_eq!(invited.status, pb::CoachingStatus::Pending as i32);
    assert_eq!(invited.trainer.as_ref().unwrap().user_id, trainer.id_str());
    assert_eq!(invited.client.as_ref().unwrap().user_id, client.id_str());
    assert!(invited.accept_time.is_none());
    let id = invited.coaching_id.clone();

    let status = invite(&env, &trainer, &client).await.unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_COACHING"));
    let status = invite(&env, &trainer, &trainer).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
    let status = invite(&env, &client, &stranger).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = env
        .client()
        .invite_client(trainer.req(pb::InviteClientRequest {
            client_id: "bad".into(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);

    // Only the invited client accepts: for the trainer, another trainer or a stranger
    // the invitation does not exist.
    for who in [&trainer, &other_trainer, &stranger] {
        let status = accept(&env, who, &id).await.unwrap_err();
        assert_eq!(status.code(), Code::NotFound);
    }
    let active = accept(&env, &client, &id).await.unwrap();
    assert_eq!(active.status, pb::CoachingStatus::Active as i32);
    assert!(active.accept_time.is_some());
    let again = accept(&env, &client, &id).await.unwrap();
    assert_eq!(again.accept_time, active.accept_time);
    let status = invite(&env, &trainer, &client).await.unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_COACHING"));

    let status = end(&env, &stranger, &id).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let ended = end(&env, &client, &id).await.unwrap();
    assert_eq!(ended.status, pb::CoachingStatus::Ended as i32);
    assert_eq!(ended.ended_by_id, client.id_str());
    let again = end(&env, &trainer, &id).await.unwrap();
    assert_eq!(again.ended_by_id, client.id_str());
    assert_eq!(again.end_time, ended.end_time);
    let status = accept(&env, &client, &id).await.unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("COACHING_ENDED"));

    // After the end, a new invitation is possible.
    let second = invite(&env, &trainer, &client).await.unwrap();
    assert_ne!(second.coaching_id, id);
}

#[tokio::test]
async fn lists_show_own_relationships_by_side_and_status() {
    let env = start().await;
    let trainer = env.trainer();
    let a = env.member();
    let b = env.member();
    let first = coach(&env, &trainer, &a).await;
    let second = invite(&env, &trainer, &b).await.unwrap();

    let mine = list(
        &env,
        &trainer,
        pb::CoachingSide::Unspecified,
        pb::CoachingStatus::Unspecified,
    )
    .await;
    let ids: Vec<String> = mine.iter().map(|c| c.coaching_id.clone()).collect();
    assert_eq!(
        ids,
        vec![second.coaching_id.clone(), first.coaching_id.clone()]
    );
    assert!(
        list(
            &env,
            &trainer,
            pb::CoachingSide::Client,
            pb::CoachingStatus::Unspecified
        )
        .await
        .is_empty()
    );
    let active = list(
        &env,
        &trainer,
        pb::CoachingSide::Trainer,
        pb::CoachingStatus::Active,
    )
    .await;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].coaching_id, first.coaching_id);
    let of_a = list(
        &env,
        &a,
        pb::CoachingSide::Client,
        pb::CoachingStatus::Unspecified,
    )
    .await;
    assert_eq!(of_a.len(), 1);
    assert!(
        list(
            &env,
            &b,
            pb::CoachingSide::Unspecified,
            pb::CoachingStatus::Active
        )
        .await
        .is_empty()
    );

    let page = env
        .client()
        .list_coachings(trainer.req(pb::ListCoachingsRequest {
            page_size: 1,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.coachings.len(), 1);
    let next = env
        .client()
        .list_coachings(trainer.req(pb::ListCoachingsRequest {
            page_size: 1,
            page_token: page.next_page_token.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.coachings[0].coaching_id, first.coaching_id);
    assert!(next.next_page_token.is_empty());
    // Bound to the filters and the caller.
    for (who, status) in [
        (&trainer, pb::CoachingStatus::Active),
        (&a, pb::CoachingStatus::Unspecified),
    ] {
        let err = env
            .client()
            .list_coachings(who.req(pb::ListCoachingsRequest {
                page_size: 1,
                status: status as i32,
                page_token: page.next_page_token.clone(),
                ..Default::default()
            }))
            .await
            .unwrap_err();
        assert_status(&err, Code::InvalidArgument, None);
    }
    let err = env
        .client()
        .list_coachings(trainer.req(pb::ListCoachingsRequest {
            page_size: -1,
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
}

#[tokio::test]
async fn unknown_users_cannot_be_invited() {
    let env = start_with_users().await;
    let trainer = env.register(&crate::common::unique("coach"), true).await;
    let client = env.register(&crate::common::unique("client"), false).await;
    let status = env
        .client()
        .invite_client(trainer.req(pb::InviteClientRequest {
            client_id: uuid::Uuid::now_v7().to_string(),
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let coaching = invite(&env, &trainer, &client).await.unwrap();
    assert_eq!(coaching.status, pb::CoachingStatus::Pending as i32);
}

/// Whether `who` may read `user`'s progress.
async fn read_progress(env: &Env, who: &Person, user: &Person) -> Result<(), tonic::Status> {
    fixtures::list(env, who, user).await.map(|_| ())
}

async fn assign(
    env: &Env,
    trainer: &Person,
    client: &Person,
    program: &str,
) -> Result<pb::Enrollment, tonic::Status> {
    env.client()
        .assign_program(trainer.req(pb::AssignProgramRequest {
            client_id: client.id_str(),
            program_id: program.into(),
            request_id: request_id(),
            ..Default::default()
        }))
        .await
        .map(|r| r.into_inner().enrollment.expect("enrollment"))
}

#[tokio::test]
async fn active_coaches_read_progress_and_assign_programs_former_ones_cannot() {
    let env = start().await;
    let trainer = env.trainer();
    let client = env.member();
    let (workout, _) = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let premium = create_program(&env, &trainer, vec![workout_day(1, &workout)], true).await;

    // Pending is not enough.
    let invited = invite(&env, &trainer, &client).await.unwrap();
    let status = read_progress(&env, &trainer, &client).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = assign(&env, &trainer, &client, &program.program_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("NOT_YOUR_CLIENT"));

    accept(&env, &client, &invited.coaching_id).await.unwrap();
    read_progress(&env, &trainer, &client).await.unwrap();
    let enrollment = assign(&env, &trainer, &client, &program.program_id)
        .await
        .unwrap();
    assert_eq!(enrollment.user_id, client.id_str());
    assert_eq!(enrollment.assigned_by_id, trainer.id_str());
    let mine = my_enrollments(&env, &client, pb::EnrollmentStatus::Unspecified).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].enrollment_id, enrollment.enrollment_id);
    let status = assign(&env, &trainer, &client, &program.program_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_ENROLLED"));
    // A free client cannot be given a premium program.
    let status = assign(&env, &trainer, &client, &premium.program_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    let status = assign(&env, &trainer, &client, &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    // Another trainer is nobody's coach here.
    let other = env.trainer();
    let status = assign(&env, &other, &client, &program.program_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("NOT_YOUR_CLIENT"));
    let status = read_progress(&env, &other, &client).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Ended by the trainer: the former trainer is refused everything.
    end(&env, &trainer, &invited.coaching_id).await.unwrap();
    let status = read_progress(&env, &trainer, &client).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let status = assign(&env, &trainer, &client, &premium.program_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("NOT_YOUR_CLIENT"));
}

#[tokio::test]
async fn assign_program_replays_a_retry() {
    let env = start().await;
    let trainer = env.trainer();
    let client = env.premium_member();
    coach(&env, &trainer, &client).await;
    let (workout, _) = squat_workout(&env, &trainer).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let key = request_id();
    let call = || {
        let mut c = env.client();
        let req = trainer.req(pb::AssignProgramRequest {
            client_id: client.id_str(),
            program_id: program.program_id.clone(),
            request_id: key.clone(),
            ..Default::default()
        });
        async move { c.assign_program(req).await }
    };
    let first = call().await.unwrap().into_inner().enrollment.unwrap();
    let retry = call().await.unwrap().into_inner().enrollment.unwrap();
    assert_eq!(first.enrollment_id, retry.enrollment_id);
    let other = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let assign_with = |program_id: &str, request_id: String| {
        let mut c = env.client();
        let req = trainer.req(pb::AssignProgramRequest {
            client_id: client.id_str(),
            program_id: program_id.into(),
            request_id,
            ..Default::default()
        });
        async move { c.assign_program(req).await }
    };
    let status = assign_with(&other.program_id, key.clone())
        .await
        .unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    // Without a request_id the assignment is made once, and not replayed.
    let keyless = assign_with(&other.program_id, String::new()).await.unwrap();
    assert_eq!(
        keyless.into_inner().enrollment.unwrap().program_id,
        other.program_id
    );
    let status = assign_with(&other.program_id, String::new())
        .await
        .unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("ALREADY_ENROLLED"));
    let status = env
        .client()
        .assign_program(trainer.req(pb::AssignProgramRequest {
            client_id: "x".into(),
            program_id: "y".into(),
            request_id: "k".repeat(65),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["client_id", "program_id", "request_id"]);
    // Members cannot assign.
    let status = env
        .client()
        .assign_program(client.req(pb::AssignProgramRequest {
            client_id: trainer.id_str(),
            program_id: program.program_id.clone(),
            request_id: request_id(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
}
