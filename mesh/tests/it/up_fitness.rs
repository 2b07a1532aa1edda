//! The training chapter of the newcomer story (see `up.rs`), through the edge only: a
//! trainer coaches a member, assigns a program, the member gets today's session and
//! logs it; the user service awards the first-workout achievement from the fitness
//! event, and messaging notifies the member of it and the trainer of the session.

use std::time::Duration;

use tribe_proto::fitness::v1 as fitness;
use tribe_proto::messaging::v1 as messaging;
use tribe_proto::user::v1 as user;

use crate::up::{Member, Mesh, eventually};

const FITNESS: &str = "/trainertribe.fitness.v1.FitnessService";

fn fit(method: &str) -> String {
    format!("{FITNESS}/{method}")
}

fn rid() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn notification_types(mesh: &Mesh, who: &Member) -> Vec<i32> {
    let list: messaging::ListNotificationsResponse = mesh
        .call(
            "/trainertribe.messaging.v1.MessagingService/ListNotifications",
            &messaging::ListNotificationsRequest::default(),
            Some(&who.access),
        )
        .await;
    list.notifications.iter().map(|n| n.r#type).collect()
}

pub(crate) async fn training_chapter(mesh: &Mesh, coach: &Member, client: &Member) {
    let found: fitness::ListExercisesResponse = mesh
        .call(
            &fit("ListExercises"),
            &fitness::ListExercisesRequest {
                query: "bench press".into(),
                ..Default::default()
            },
            Some(&client.access),
        )
        .await;
    let bench = found
        .exercises
        .iter()
        .find(|e| e.name == "Barbell bench press")
        .expect("the seeded bench press")
        .exercise_id
        .clone();
    let workout: fitness::CreateWorkoutResponse = mesh
        .call(
            &fit("CreateWorkout"),
            &fitness::CreateWorkoutRequest {
                workout: Some(fitness::Workout {
                    title: "Press day".into(),
                    difficulty: fitness::Difficulty::Beginner as i32,
                    visibility: fitness::WorkoutVisibility::Public as i32,
                    duration_seconds: 1800,
                    exercises: vec![fitness::WorkoutExercise {
                        exercise_id: bench.clone(),
                        sets: 3,
                        reps: 8,
                        weight_kg: Some(40.0),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                request_id: rid(),
            },
            Some(&coach.access),
        )
        .await;
    let workout_id = workout.workout.expect("workout").workout_id;
    let program: fitness::CreateProgramResponse = mesh
        .call(
            &fit("CreateProgram"),
            &fitness::CreateProgramRequest {
                program: Some(fitness::Program {
                    title: "Press fortnight".into(),
                    difficulty: fitness::Difficulty::Beginner as i32,
                    days: vec![
                        fitness::ProgramDay {
                            day_number: 1,
                            workout_id: workout_id.clone(),
                            ..Default::default()
                        },
                        fitness::ProgramDay {
                            day_number: 8,
                            workout_id: workout_id.clone(),
                            ..Default::default()
                        },
                    ],
                    ..Default::default()
                }),
                request_id: rid(),
            },
            Some(&coach.access),
        )
        .await;
    let program_id = program.program.expect("program").program_id;

    // Coaching: invited, accepted, then the program is assigned.
    let invited: fitness::InviteClientResponse = mesh
        .call(
            &fit("InviteClient"),
            &fitness::InviteClientRequest {
                client_id: client.id.clone(),
            },
            Some(&coach.access),
        )
        .await;
    let coaching = invited.coaching.expect("coaching");
    let _: fitness::AcceptCoachingResponse = mesh
        .call(
            &fit("AcceptCoaching"),
            &fitness::AcceptCoachingRequest {
                coaching_id: coaching.coaching_id,
            },
            Some(&client.access),
        )
        .await;
    let assigned: fitness::AssignProgramResponse = mesh
        .call(
            &fit("AssignProgram"),
            &fitness::AssignProgramRequest {
                client_id: client.id.clone(),
                program_id,
                request_id: rid(),
                start_date: String::new(),
            },
            Some(&coach.access),
        )
        .await;
    let enrollment = assigned.enrollment.expect("enrollment");
    assert_eq!(enrollment.assigned_by_id, coach.id);

    // Today's session, logged as prescribed.
    let today: fitness::GetTodaysSessionResponse = mesh
        .call(
            &fit("GetTodaysSession"),
            &fitness::GetTodaysSessionRequest {
                enrollment_id: enrollment.enrollment_id.clone(),
                time_zone: String::new(),
            },
            Some(&client.access),
        )
        .await;
    let session = today.session.expect("session");
    assert_eq!(session.day_number, 1);
    let planned = &session.exercises[0];
    let logged: fitness::LogProgressResponse = mesh
        .call(
            &fit("LogProgress"),
            &fitness::LogProgressRequest {
                progress_log: Some(fitness::ProgressLog {
                    enrollment_id: enrollment.enrollment_id,
                    program_day_number: 1,
                    duration_seconds: 1700,
                    exercises: vec![fitness::ExerciseLog {
                        exercise_id: bench,
                        workout_position: planned.position,
                        sets: vec![
                            fitness::SetLog {
                                reps: 8,
                                weight_kg: Some(40.0),
                                ..Default::default()
                            };
                            3
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                request_id: rid(),
            },
            Some(&client.access),
        )
        .await;
    assert_eq!(logged.progress_log.expect("log").volume_kg, 960.0);

    // The coach may read the client's statistics now.
    let stats: fitness::GetProgressStatsResponse = mesh
        .call(
            &fit("GetProgressStats"),
            &fitness::GetProgressStatsRequest {
                user_id: client.id.clone(),
                ..Default::default()
            },
            Some(&coach.access),
        )
        .await;
    let stats = stats.stats.expect("stats");
    assert_eq!((stats.total_workouts, stats.current_streak_days), (1, 1));

    // Through Kafka: the user service awards the achievement, messaging tells both.
    eventually(
        "the first-workout achievement",
        Duration::from_secs(60),
        || async {
            let list: user::ListAchievementsResponse = mesh
                .call(
                    "/trainertribe.user.v1.UserService/ListAchievements",
                    &user::ListAchievementsRequest {
                        user_id: client.id.clone(),
                        page_size: 50,
                        ..Default::default()
                    },
                    Some(&client.access),
                )
                .await;
            list.achievements
                .iter()
                .any(|a| a.code == "FIRST_WORKOUT")
                .then_some(())
        },
    )
    .await;
    eventually(
        "the member's achievement notification",
        Duration::from_secs(60),
        || async {
            notification_types(mesh, client)
                .await
                .contains(&(messaging::NotificationType::Achievement as i32))
                .then_some(())
        },
    )
    .await;
    eventually(
        "the coach's client-session notification",
        Duration::from_secs(60),
        || async {
            notification_types(mesh, coach)
                .await
                .contains(&(messaging::NotificationType::ClientSession as i32))
                .then_some(())
        },
    )
    .await;
}
