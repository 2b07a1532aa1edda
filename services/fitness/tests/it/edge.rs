//! A member's day through the real Envoy edge over gRPC-Web: browse the catalog and the
//! programs, enrol, get today's session, log it — with the JWT checked at the edge and
//! again in the service.

use tribe_fitness::policy;
use tribe_infra::envoy::Upstream;
use tribe_proto::fitness::v1 as pb;
use tribe_testkit::{TestEdge, grpc_web};

use crate::common::*;

const UNAUTHENTICATED: i32 = 16;
const NOT_FOUND: i32 = 5;

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

/// Calls `method` through the edge, failing the test on an error status.
async fn call<Req: prost::Message, Resp: prost::Message + Default>(
    edge: &TestEdge,
    method: &str,
    request: &Req,
    token: &str,
) -> Resp {
    grpc_web::call::<Req, Resp>(&edge.url(), &path(method), request, Some(token))
        .await
        .unwrap_or_else(|e| panic!("{method} through the edge: {e:#}"))
        .unwrap_or_else(|(code, message)| panic!("{method} through the edge: {code} {message}"))
}

#[tokio::test]
async fn browse_enrol_get_todays_session_and_log_it_over_grpc_web() {
    let env = start().await;
    let edge = TestEdge::start(
        Upstream::for_surface(&policy::SURFACE, env.server.addr),
        &env.keys.jwks_path(),
    )
    .await
    .expect("start envoy");
    let (coach, ana) = (env.trainer(), env.member());

    // Browse: the first answer also waits for the edge's health check.
    let categories: pb::ListCategoriesResponse = edge
        .first_answer(
            &path("ListCategories"),
            &pb::ListCategoriesRequest {
                page_size: 100,
                ..Default::default()
            },
            Some(&ana.token),
        )
        .await
        .expect("categories through the edge");
    assert!(
        categories
            .categories
            .iter()
            .any(|c| c.category_id == "strength")
    );
    let found: pb::ListExercisesResponse = call(
        &edge,
        "ListExercises",
        &pb::ListExercisesRequest {
            query: "squat".into(),
            ..Default::default()
        },
        &ana.token,
    )
    .await;
    let squat = found
        .exercises
        .iter()
        .find(|e| e.name == "Barbell back squat")
        .expect("the seeded squat")
        .exercise_id
        .clone();

    // A coach publishes a one-day program of one workout.
    let workout: pb::CreateWorkoutResponse = call(
        &edge,
        "CreateWorkout",
        &pb::CreateWorkoutRequest {
            workout: Some(pb::Workout {
                title: "Squat day".into(),
                difficulty: pb::Difficulty::Beginner as i32,
                visibility: pb::WorkoutVisibility::Public as i32,
                duration_seconds: 2400,
                exercises: vec![pb::WorkoutExercise {
                    exercise_id: squat.clone(),
                    set_plan: vec![
                        pb::SetPrescription {
                            set_type: pb::SetType::Working as i32,
                            reps_min: 5,
                            reps_max: 5,
                            load: Some(pb::set_prescription::Load::WeightKg(60.0)),
                            rest_seconds: 120,
                            ..Default::default()
                        };
                        3
                    ],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: request_id(),
        },
        &coach.token,
    )
    .await;
    let workout = workout.workout.expect("workout");
    let program: pb::CreateProgramResponse = call(
        &edge,
        "CreateProgram",
        &pb::CreateProgramRequest {
            program: Some(pb::Program {
                title: "Squat week".into(),
                difficulty: pb::Difficulty::Beginner as i32,
                days: vec![pb::ProgramDay {
                    day_number: 1,
                    workout_id: workout.workout_id.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: request_id(),
        },
        &coach.token,
    )
    .await;
    let program = program.program.expect("program");

    // Ana enrols, asks for today's session and logs it.
    let enrolled: pb::EnrollInProgramResponse = call(
        &edge,
        "EnrollInProgram",
        &pb::EnrollInProgramRequest {
            program_id: program.program_id.clone(),
            request_id: request_id(),
            ..Default::default()
        },
        &ana.token,
    )
    .await;
    let enrollment = enrolled.enrollment.expect("enrollment");
    let today: pb::GetTodaysSessionResponse = call(
        &edge,
        "GetTodaysSession",
        &pb::GetTodaysSessionRequest {
            enrollment_id: enrollment.enrollment_id.clone(),
            time_zone: "Europe/Paris".into(),
        },
        &ana.token,
    )
    .await;
    let session = today.session.expect("session");
    assert_eq!(session.day_number, 1);
    assert_eq!(session.exercises.len(), 1);
    let planned = &session.exercises[0];
    assert_eq!(planned.sets.len(), 3);
    let sets: Vec<pb::SetLog> = planned
        .sets
        .iter()
        .map(|s| pb::SetLog {
            reps: s.reps_min,
            weight_kg: match s.load {
                Some(pb::set_prescription::Load::WeightKg(kg)) => Some(kg),
                _ => None,
            },
            ..Default::default()
        })
        .collect();
    let logged: pb::LogProgressResponse = call(
        &edge,
        "LogProgress",
        &pb::LogProgressRequest {
            progress_log: Some(pb::ProgressLog {
                enrollment_id: enrollment.enrollment_id.clone(),
                program_day_number: 1,
                duration_seconds: 2100,
                exercises: vec![pb::ExerciseLog {
                    exercise_id: squat,
                    workout_position: planned.position,
                    sets,
                    ..Default::default()
                }],
                rating: 5,
                ..Default::default()
            }),
            request_id: request_id(),
        },
        &ana.token,
    )
    .await;
    let log = logged.progress_log.expect("log");
    assert_eq!(
        log.workout_id, workout.workout_id,
        "filled from the program day"
    );
    assert_eq!(log.volume_kg, 3.0 * 5.0 * 60.0);
    assert!(log.exercises[0].sets.iter().all(|s| s.target_met));

    let mine: pb::ListMyEnrollmentsResponse = call(
        &edge,
        "ListMyEnrollments",
        &pb::ListMyEnrollmentsRequest::default(),
        &ana.token,
    )
    .await;
    assert_eq!(
        mine.enrollments[0].status,
        pb::EnrollmentStatus::Completed as i32,
        "the only workout day is done"
    );

    // No token: refused at the edge. Another member's enrollment: not found.
    let anonymous = grpc_web::call::<_, pb::ListMyEnrollmentsResponse>(
        &edge.url(),
        &path("ListMyEnrollments"),
        &pb::ListMyEnrollmentsRequest::default(),
        None,
    )
    .await
    .expect("edge reachable");
    assert_eq!(anonymous.unwrap_err().0, UNAUTHENTICATED);
    let stranger = env.member();
    let theirs = grpc_web::call::<_, pb::GetTodaysSessionResponse>(
        &edge.url(),
        &path("GetTodaysSession"),
        &pb::GetTodaysSessionRequest {
            enrollment_id: enrollment.enrollment_id,
            time_zone: String::new(),
        },
        Some(&stranger.token),
    )
    .await
    .expect("edge reachable");
    assert_eq!(theirs.unwrap_err().0, NOT_FOUND);
}
