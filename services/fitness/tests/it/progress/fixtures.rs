//! Shared fixtures of the progress, statistics and body tests: timestamps, sets,
//! sessions, a trainer's squat workout, logging and listing.

use chrono::{DateTime, Utc};
use tonic::Status;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Env, Person, exercise_id, request_id};

/// A timestamp from RFC 3339 text.
pub fn ts(at: &str) -> prost_types::Timestamp {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(at).expect("time").into();
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// A timestamp `minutes` ago.
pub fn ago(minutes: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: (Utc::now() - chrono::Duration::minutes(minutes)).timestamp(),
        nanos: 0,
    }
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

pub async fn squat(env: &Env, who: &Person) -> String {
    exercise_id(&mut env.client(), who, "Barbell back squat").await
}

/// A trainer's public workout: back squat, 3 working sets of at least 5 reps at 100 kg.
pub async fn squat_workout(env: &Env, trainer: &Person) -> (String, String) {
    let squat = squat(env, trainer).await;
    let prescribed = pb::SetPrescription {
        set_type: pb::SetType::Working as i32,
        reps_min: 5,
        reps_max: 5,
        load: Some(pb::set_prescription::Load::WeightKg(100.0)),
        rest_seconds: 120,
        ..Default::default()
    };
    let workout = env
        .client()
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(pb::Workout {
                title: "Squat day".into(),
                difficulty: pb::Difficulty::Intermediate as i32,
                duration_seconds: 3600,
                visibility: pb::WorkoutVisibility::Public as i32,
                exercises: vec![pb::WorkoutExercise {
                    exercise_id: squat.clone(),
                    set_plan: vec![prescribed; 3],
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("create workout")
        .into_inner()
        .workout
        .expect("workout");
    (workout.workout_id, squat)
}

pub async fn list(env: &Env, who: &Person, user: &Person) -> Result<Vec<pb::ProgressLog>, Status> {
    env.client()
        .list_user_progress(who.req(pb::ListUserProgressRequest {
            user_id: user.id_str(),
            ..Default::default()
        }))
        .await
        .map(|r| r.into_inner().progress_logs)
}
