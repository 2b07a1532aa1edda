//! Tests of GetTodaysSession: the next workout day with loads from the caller's own
//! history (logged with LogProgress), %1RM sets, completing a program, and refusals.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::set_prescription::Load;

use crate::common::{Env, Person, assert_status, request_id, start, violated_fields};
use crate::fixtures::{
    ago, create_program, create_workout, enroll, events, exercise, list, log as log_session,
    my_enrollments, payloads, session, set, set_state, squat, squat_day, squat_workout_with,
    try_log, workout_day,
};

fn linear(add_kg: f64) -> pb::ProgressionRule {
    pb::ProgressionRule {
        rule: Some(pb::progression_rule::Rule::Linear(pb::LinearProgression {
            add_kg,
            after_sessions: 1,
            ..Default::default()
        })),
        ..Default::default()
    }
}

async fn today(
    env: &Env,
    who: &Person,
    enrollment_id: &str,
) -> Result<pb::TodaysSession, tonic::Status> {
    env.client()
        .get_todays_session(who.req(pb::GetTodaysSessionRequest {
            enrollment_id: enrollment_id.into(),
            time_zone: String::new(),
        }))
        .await
        .map(|r| r.into_inner().session.expect("session"))
}

/// What a logged session is linked to: a workout (its entry 1), an enrollment and its
/// day; empty and 0 for none.
struct Link<'a>(&'a str, &'a str, i32);

/// Logs 3 sets of `reps` at `kg` of `exercise`, linked as `link` says.
async fn log(
    env: &Env,
    who: &Person,
    Link(workout, enrollment, day): Link<'_>,
    exercise: &str,
    reps: i32,
    kg: f64,
) -> pb::ProgressLog {
    let sets = (0..3)
        .map(|_| pb::SetLog {
            reps,
            weight_kg: Some(kg),
            set_type: pb::SetType::Working as i32,
            ..Default::default()
        })
        .collect();
    env.client()
        .log_progress(who.req(pb::LogProgressRequest {
            progress_log: Some(pb::ProgressLog {
                workout_id: workout.into(),
                enrollment_id: enrollment.into(),
                program_day_number: day,
                duration_seconds: 1800,
                exercises: vec![pb::ExerciseLog {
                    exercise_id: exercise.into(),
                    sets,
                    workout_position: if workout.is_empty() { 0 } else { 1 },
                    ..Default::default()
                }],
                completed_time: Some(ago(0)),
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("log progress")
        .into_inner()
        .progress_log
        .expect("log")
}

fn loads(exercise: &pb::SessionExercise) -> Vec<Option<f64>> {
    exercise
        .sets
        .iter()
        .map(|s| match s.load {
            Some(Load::WeightKg(kg)) => Some(kg),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn loads_follow_the_history_and_the_rule() {
    let env = start().await;
    let trainer = env.trainer();
    let public = pb::WorkoutVisibility::Public;
    let (workout, squat) =
        squat_workout_with(&env, &trainer, public, 100.0, Some(linear(2.5))).await;
    let program = create_program(
        &env,
        &trainer,
        vec![
            workout_day(1, &workout),
            workout_day(3, &workout),
            workout_day(5, &workout),
        ],
        false,
    )
    .await;
    let member = env.member();
    let enrollment = enroll(&env, &member, &program.program_id).await;
    let id = enrollment.enrollment_id.clone();

    // No history: the prescription, day 1, which is also the calendar day.
    let first = today(&env, &member, "").await.unwrap();
    assert_eq!(first.enrollment_id, id);
    assert_eq!(first.day_number, 1);
    assert_eq!(first.notes, "day 1");
    assert_eq!(
        (first.calendar_day_number, first.calendar_rest_day),
        (1, false)
    );
    let workout_shown = first.workout.as_ref().expect("workout");
    assert_eq!(workout_shown.workout_id, workout);
    assert!(workout_shown.exercises.is_empty());
    assert_eq!(first.exercises.len(), 1);
    assert_eq!(first.exercises[0].position, 1);
    assert_eq!(first.exercises[0].exercise_id, squat);
    assert_eq!(loads(&first.exercises[0]), vec![Some(100.0); 3]);
    assert!(
        first.exercises[0].progression_note.contains("no history"),
        "{}",
        first.exercises[0].progression_note
    );

    // Day 1 met the target: day 3 adds 2.5 kg.
    log(&env, &member, Link(&workout, &id, 1), &squat, 5, 100.0).await;
    let second = today(&env, &member, &id).await.unwrap();
    assert_eq!(second.day_number, 3);
    assert_eq!(loads(&second.exercises[0]), vec![Some(102.5); 3]);
    assert!(
        second.exercises[0].progression_note.contains("+2.5 kg"),
        "{}",
        second.exercises[0].progression_note
    );
    assert!(second.exercises[0].estimated_one_rep_max_kg > 116.0);

    // Day 3 missed the reps at 102.5: the load holds.
    log(&env, &member, Link(&workout, &id, 3), &squat, 3, 102.5).await;
    let third = today(&env, &member, &id).await.unwrap();
    assert_eq!(third.day_number, 5);
    assert_eq!(loads(&third.exercises[0]), vec![Some(102.5); 3]);
    assert!(
        third.exercises[0].progression_note.contains("missed"),
        "{}",
        third.exercises[0].progression_note
    );

    // Someone else's history does not count, and their enrollment is not readable.
    let other = env.member();
    let status = today(&env, &other, &id).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let status = today(&env, &other, "").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let theirs = enroll(&env, &other, &program.program_id).await;
    let fresh = today(&env, &other, &theirs.enrollment_id).await.unwrap();
    assert_eq!(loads(&fresh.exercises[0]), vec![Some(100.0); 3]);
}

#[tokio::test]
async fn percent_of_one_rep_max_uses_the_estimate() {
    let env = start().await;
    let trainer = env.trainer();
    let squat = squat(&env, &trainer).await;
    let entry = pb::WorkoutExercise {
        exercise_id: squat.clone(),
        set_plan: vec![
            pb::SetPrescription {
                set_type: pb::SetType::Working as i32,
                reps_min: 5,
                reps_max: 5,
                load: Some(Load::PercentOneRepMax(80.0)),
                rest_seconds: 120,
                ..Default::default()
            };
            2
        ],
        ..Default::default()
    };
    let day = squat_day(pb::WorkoutVisibility::Public, vec![entry]);
    let workout = create_workout(&mut env.client(), &trainer, day)
        .await
        .workout_id;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let member = env.member();
    let enrollment = enroll(&env, &member, &program.program_id).await;

    let unknown = today(&env, &member, &enrollment.enrollment_id)
        .await
        .unwrap();
    assert_eq!(unknown.exercises[0].estimated_one_rep_max_kg, 0.0);
    assert!(matches!(
        unknown.exercises[0].sets[0].load,
        Some(Load::PercentOneRepMax(p)) if p == 80.0
    ));

    // A free-form session: 5 x 100 kg, Epley 116.7 kg; 80 % = 93.3, rounded down 92.5.
    log(&env, &member, Link("", "", 0), &squat, 5, 100.0).await;
    let known = today(&env, &member, &enrollment.enrollment_id)
        .await
        .unwrap();
    let max = known.exercises[0].estimated_one_rep_max_kg;
    assert!((max - 100.0 * (1.0 + 5.0 / 30.0)).abs() < 1e-6, "{max}");
    assert_eq!(loads(&known.exercises[0]), vec![Some(92.5); 2]);
}

#[tokio::test]
async fn completing_the_last_day_completes_the_program_until_its_log_goes() {
    let env = start().await;
    let trainer = env.trainer();
    let public = pb::WorkoutVisibility::Public;
    let (workout, squat) = squat_workout_with(&env, &trainer, public, 60.0, None).await;
    let program = create_program(&env, &trainer, vec![workout_day(2, &workout)], false).await;
    let member = env.member();
    let enrollment = enroll(&env, &member, &program.program_id).await;
    let id = enrollment.enrollment_id.clone();
    let start_day = today(&env, &member, &id).await.unwrap();
    assert_eq!(
        (start_day.calendar_day_number, start_day.calendar_rest_day),
        (1, true)
    );

    let logged = log(&env, &member, Link(&workout, &id, 2), &squat, 5, 60.0).await;
    let done = today(&env, &member, &id).await.unwrap();
    assert_eq!(done.day_number, 0);
    assert!(done.workout.is_none());
    let mine = my_enrollments(&env, &member, pb::EnrollmentStatus::Unspecified).await;
    assert_eq!(mine[0].status, pb::EnrollmentStatus::Completed as i32);
    assert_eq!(mine[0].completed_day_numbers, vec![2]);
    assert!(mine[0].complete_time.is_some());
    // A completed enrollment cannot be left.
    let status = set_state(&env, &member, &id, "leave").await.unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("ENROLLMENT_COMPLETED"),
    );

    let events = events(&env, 1).await;
    let completed = payloads!(events, ProgramCompleted);
    assert_eq!(completed.len(), 1, "{completed:?}");
    assert_eq!(completed[0].enrollment_id, id);
    assert_eq!(completed[0].user_id, member.id_str());
    assert_eq!(completed[0].program_creator_id, trainer.id_str());
    assert_eq!(completed[0].program_title, "Squat cycle");
    assert!(completed[0].assigned_by_id.is_empty());

    env.client()
        .delete_progress_log(member.req(pb::DeleteProgressLogRequest {
            progress_log_id: logged.progress_log_id,
        }))
        .await
        .unwrap();
    let reopened = today(&env, &member, &id).await.unwrap();
    assert_eq!(reopened.day_number, 2);
    let mine = my_enrollments(&env, &member, pb::EnrollmentStatus::Unspecified).await;
    assert_eq!(mine[0].status, pb::EnrollmentStatus::Active as i32);
    assert!(mine[0].completed_day_numbers.is_empty());
}

#[tokio::test]
async fn paused_left_and_malformed_requests_are_refused() {
    let env = start().await;
    let trainer = env.trainer();
    let public = pb::WorkoutVisibility::Public;
    let (workout, _) = squat_workout_with(&env, &trainer, public, 60.0, None).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let member = env.member();
    let status = today(&env, &member, "").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let enrollment = enroll(&env, &member, &program.program_id).await;
    let id = enrollment.enrollment_id.clone();

    let status = env
        .client()
        .get_todays_session(member.req(pb::GetTodaysSessionRequest {
            enrollment_id: "nope".into(),
            time_zone: "Mars/Olympus".into(),
        }))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["enrollment_id", "time_zone"]);
    let zoned = env
        .client()
        .get_todays_session(member.req(pb::GetTodaysSessionRequest {
            enrollment_id: id.clone(),
            time_zone: "Pacific/Kiritimati".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .session
        .unwrap();
    assert_eq!(zoned.day_number, 1);

    set_state(&env, &member, &id, "pause").await.unwrap();
    let status = today(&env, &member, &id).await.unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("ENROLLMENT_NOT_ACTIVE"),
    );
    // No active enrollment remains to default to.
    let status = today(&env, &member, "").await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // Logging against a paused enrollment is refused as well.
    let paused = pb::ProgressLog {
        workout_id: workout.clone(),
        enrollment_id: id.clone(),
        program_day_number: 1,
        ..session(ago(0), vec![])
    };
    let status = try_log(&env, &member, paused).await.unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("ENROLLMENT_NOT_ACTIVE"),
    );

    set_state(&env, &member, &id, "leave").await.unwrap();
    let status = today(&env, &member, &id).await.unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("ENROLLMENT_NOT_ACTIVE"),
    );
}

#[tokio::test]
async fn premium_workouts_need_premium_to_open_and_to_log_a_session() {
    let env = start().await;
    let trainer = env.trainer();
    let premium = pb::WorkoutVisibility::Premium;
    let (workout, squat) = squat_workout_with(&env, &trainer, premium, 60.0, None).await;
    let program = create_program(&env, &trainer, vec![workout_day(1, &workout)], false).await;
    let free = env.member();
    let paid = env.premium_member();
    let free_enrollment = enroll(&env, &free, &program.program_id).await;
    let paid_enrollment = enroll(&env, &paid, &program.program_id).await;
    let status = today(&env, &free, &free_enrollment.enrollment_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    let shown = today(&env, &paid, &paid_enrollment.enrollment_id)
        .await
        .unwrap();
    assert_eq!(loads(&shown.exercises[0]), vec![Some(60.0); 3]);

    // Logging it needs premium as well, named or filled from the program day, and a
    // refused log leaves nothing behind (no log, no completed day).
    let squats = || vec![exercise(&squat, vec![set(5, 60.0)])];
    let named = pb::ProgressLog {
        workout_id: workout.clone(),
        ..session(ago(1), squats())
    };
    let program_day = |enrollment: &pb::Enrollment| pb::ProgressLog {
        enrollment_id: enrollment.enrollment_id.clone(),
        program_day_number: 1,
        ..session(ago(1), squats())
    };
    for refused in [named.clone(), program_day(&free_enrollment)] {
        let status = try_log(&env, &free, refused).await.unwrap_err();
        assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    }
    assert!(list(&env, &free, &free).await.unwrap().is_empty());
    let mine = my_enrollments(&env, &free, pb::EnrollmentStatus::Unspecified).await;
    assert!(mine[0].completed_day_numbers.is_empty());
    let logged = log_session(&env, &paid, program_day(&paid_enrollment)).await;
    assert_eq!(logged.workout_id, workout);
    assert_eq!(log_session(&env, &trainer, named).await.workout_id, workout);
}
