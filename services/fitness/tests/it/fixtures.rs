//! Fixtures the fitness test modules share: timestamps, events, catalog exercises,
//! workouts, programs and enrollments, progress logs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tonic::Status;
use tribe_proto::events::v1::Event;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Client, Env, Person, exercise_id, request_id, unique};

/// A timestamp from RFC 3339 text.
pub fn ts(at: &str) -> prost_types::Timestamp {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(at).expect("time").into();
    timestamp(at)
}

/// `at` as a proto timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// A timestamp `minutes` ago (whole seconds).
pub fn ago(minutes: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: (Utc::now() - chrono::Duration::minutes(minutes)).timestamp(),
        nanos: 0,
    }
}

/// The fitness events of the test so far, waiting for at least `min`.
pub async fn events(env: &Env, min: usize) -> Vec<Event> {
    tribe_testkit::read_events(&env.kafka, "tribe.fitness.v1", min, Duration::from_secs(20))
        .await
        .expect("read events")
}

/// The payloads of one kind among events: `payloads!(events, WorkoutCompleted)`.
macro_rules! payloads {
    ($events:expr, $kind:ident) => {
        $events
            .iter()
            .filter_map(|e| match &e.payload {
                Some(tribe_proto::events::v1::event::Payload::$kind(p)) => Some(p.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
}
pub(crate) use payloads;

/// A valid exercise named `name`, trained by individual muscles.
pub fn new_exercise(name: &str) -> pb::Exercise {
    pb::Exercise {
        name: name.into(),
        description: "A test movement for the catalog.".into(),
        instructions: vec!["Set up".into(), "Move".into()],
        primary_muscles: vec![
            pb::Muscle::QuadricepsFemoris as i32,
            pb::Muscle::GluteusMaximus as i32,
        ],
        secondary_muscles: vec![pb::Muscle::Hamstrings as i32],
        equipment: vec![pb::Equipment::Kettlebell as i32],
        difficulty: pb::Difficulty::Beginner as i32,
        mechanics: pb::Mechanics::Compound as i32,
        aliases: vec![format!("{name} alias")],
        category_ids: vec!["strength".into()],
        thumbnail_url: "https://cdn.example.com/t.png".into(),
        ..Default::default()
    }
}

pub async fn create_exercise(
    client: &mut Client,
    who: &Person,
    exercise: pb::Exercise,
) -> pb::Exercise {
    client
        .create_exercise(who.req(pb::CreateExerciseRequest {
            exercise: Some(exercise),
            request_id: request_id(),
        }))
        .await
        .expect("create exercise")
        .into_inner()
        .exercise
        .expect("exercise")
}

/// The seeded barbell back squat.
pub async fn squat(env: &Env, who: &Person) -> String {
    exercise_id(&mut env.client(), who, "Barbell back squat").await
}

/// A PUBLIC beginner workout doing 3x10 of each exercise in turn.
pub fn simple(exercise_ids: &[&str]) -> pb::Workout {
    pb::Workout {
        title: unique("Workout"),
        description: "Simple strength session".into(),
        difficulty: pb::Difficulty::Beginner as i32,
        duration_seconds: 1800,
        category_ids: vec!["strength".into()],
        exercises: exercise_ids
            .iter()
            .map(|id| pb::WorkoutExercise {
                exercise_id: (*id).into(),
                sets: 3,
                reps: 10,
                rest_seconds: 90,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

pub async fn create_workout(
    client: &mut Client,
    who: &Person,
    workout: pb::Workout,
) -> pb::Workout {
    client
        .create_workout(who.req(pb::CreateWorkoutRequest {
            workout: Some(workout),
            request_id: request_id(),
        }))
        .await
        .expect("create workout")
        .into_inner()
        .workout
        .expect("workout")
}

/// A squat entry of `sets` x 5 at `kg` with `rule`.
pub fn squat_entry(
    exercise: &str,
    sets: i32,
    kg: f64,
    rule: Option<pb::ProgressionRule>,
) -> pb::WorkoutExercise {
    pb::WorkoutExercise {
        exercise_id: exercise.into(),
        sets,
        reps: 5,
        rest_seconds: 120,
        weight_kg: Some(kg),
        progression: rule,
        ..Default::default()
    }
}

/// "Squat day": an intermediate hour of `entries` at `visibility`.
pub fn squat_day(
    visibility: pb::WorkoutVisibility,
    entries: Vec<pb::WorkoutExercise>,
) -> pb::Workout {
    pb::Workout {
        title: "Squat day".into(),
        description: "Heavy squats".into(),
        difficulty: pb::Difficulty::Intermediate as i32,
        duration_seconds: 3600,
        visibility: visibility as i32,
        exercises: entries,
        ..Default::default()
    }
}

/// A trainer's "Squat day" of back squats, 3 working sets of 5 at `kg` under `rule`:
/// (workout id, squat id).
pub async fn squat_workout_with(
    env: &Env,
    trainer: &Person,
    visibility: pb::WorkoutVisibility,
    kg: f64,
    rule: Option<pb::ProgressionRule>,
) -> (String, String) {
    let squat = squat(env, trainer).await;
    let entries = vec![squat_entry(&squat, 3, kg, rule)];
    let workout = create_workout(&mut env.client(), trainer, squat_day(visibility, entries)).await;
    (workout.workout_id, squat)
}

/// A trainer's public "Squat day": 3 x 5 at 100 kg, no rule.
pub async fn squat_workout(env: &Env, trainer: &Person) -> (String, String) {
    squat_workout_with(env, trainer, pb::WorkoutVisibility::Public, 100.0, None).await
}

pub fn workout_day(day_number: i32, workout_id: &str) -> pb::ProgramDay {
    pb::ProgramDay {
        day_number,
        workout_id: workout_id.into(),
        notes: format!("day {day_number}"),
        ..Default::default()
    }
}

pub fn rest_day(day_number: i32) -> pb::ProgramDay {
    pb::ProgramDay {
        day_number,
        is_rest_day: true,
        ..Default::default()
    }
}

pub fn program_input(title: &str, days: Vec<pb::ProgramDay>, premium: bool) -> pb::Program {
    pb::Program {
        title: title.into(),
        description: "Three weeks of squats".into(),
        difficulty: pb::Difficulty::Beginner as i32,
        is_premium: premium,
        category_ids: vec!["strength".into()],
        days,
        ..Default::default()
    }
}

/// Creates a program "Squat cycle" of `days` by `trainer`.
pub async fn create_program(
    env: &Env,
    trainer: &Person,
    days: Vec<pb::ProgramDay>,
    premium: bool,
) -> pb::Program {
    env.client()
        .create_program(trainer.req(pb::CreateProgramRequest {
            program: Some(program_input("Squat cycle", days, premium)),
            request_id: request_id(),
        }))
        .await
        .expect("create program")
        .into_inner()
        .program
        .expect("program")
}

pub async fn get_program(env: &Env, who: &Person, program_id: &str) -> pb::Program {
    env.client()
        .get_program(who.req(pb::GetProgramRequest {
            program_id: program_id.into(),
        }))
        .await
        .expect("get program")
        .into_inner()
        .program
        .expect("program")
}

pub async fn enroll(env: &Env, who: &Person, program_id: &str) -> pb::Enrollment {
    env.client()
        .enroll_in_program(who.req(pb::EnrollInProgramRequest {
            program_id: program_id.into(),
            request_id: request_id(),
            ..Default::default()
        }))
        .await
        .expect("enroll")
        .into_inner()
        .enrollment
        .expect("enrollment")
}

/// `who`'s enrollments with `status` (UNSPECIFIED: all), newest first.
pub async fn my_enrollments(
    env: &Env,
    who: &Person,
    status: pb::EnrollmentStatus,
) -> Vec<pb::Enrollment> {
    env.client()
        .list_my_enrollments(who.req(pb::ListMyEnrollmentsRequest {
            status: status as i32,
            ..Default::default()
        }))
        .await
        .expect("list my enrollments")
        .into_inner()
        .enrollments
}

/// Pauses, resumes or (`to` anything else) leaves `who`'s enrollment `id`.
pub async fn set_state(
    env: &Env,
    who: &Person,
    id: &str,
    to: &str,
) -> Result<pb::Enrollment, Status> {
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

/// A completed working set.
pub fn set(reps: i32, kg: f64) -> pb::SetLog {
    pb::SetLog {
        reps,
        weight_kg: Some(kg),
        ..Default::default()
    }
}

pub fn exercise(id: &str, sets: Vec<pb::SetLog>) -> pb::ExerciseLog {
    pb::ExerciseLog {
        exercise_id: id.into(),
        sets,
        ..Default::default()
    }
}

/// A 30-minute session completed at `at`.
pub fn session(at: prost_types::Timestamp, exercises: Vec<pb::ExerciseLog>) -> pb::ProgressLog {
    pb::ProgressLog {
        duration_seconds: 1800,
        calories: 250,
        completed_time: Some(at),
        exercises,
        ..Default::default()
    }
}

pub async fn try_log(
    env: &Env,
    who: &Person,
    log: pb::ProgressLog,
) -> Result<pb::ProgressLog, Status> {
    env.client()
        .log_progress(who.req(pb::LogProgressRequest {
            progress_log: Some(log),
            request_id: request_id(),
        }))
        .await
        .map(|r| r.into_inner().progress_log.expect("log"))
}

pub async fn log(env: &Env, who: &Person, log: pb::ProgressLog) -> pb::ProgressLog {
    try_log(env, who, log).await.expect("log progress")
}

/// `user`'s progress logs as `who` reads them.
pub async fn list(env: &Env, who: &Person, user: &Person) -> Result<Vec<pb::ProgressLog>, Status> {
    env.client()
        .list_user_progress(who.req(pb::ListUserProgressRequest {
            user_id: user.id_str(),
            ..Default::default()
        }))
        .await
        .map(|r| r.into_inner().progress_logs)
}
