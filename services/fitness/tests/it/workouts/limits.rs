//! Validation limits of workouts and idempotent creation.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::progression_rule::Rule;
use tribe_proto::fitness::v1::set_prescription::Load;

use super::{listed, set};
use crate::common::{assert_status, exercise_id, request_id, start, violated_fields};
use crate::fixtures::{create_workout, simple};

#[tokio::test]
async fn every_limit_is_checked_and_all_violations_are_listed() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let entry = |f: &dyn Fn(&mut pb::WorkoutExercise)| {
        let mut e = pb::WorkoutExercise {
            exercise_id: squat.clone(),
            sets: 3,
            reps: 5,
            ..Default::default()
        };
        f(&mut e);
        e
    };
    let working = |reps: (i32, i32), load: Option<Load>| set(pb::SetType::Working, reps, load, 60);
    let mut w = simple(&[]);
    w.title = String::new();
    w.duration_seconds = 59;
    w.estimated_calories = 5001;
    w.difficulty = 0;
    w.category_ids = vec!["nope".into()];
    w.thumbnail_url = "http://x.example.com".into();
    w.exercises = vec![
        entry(&|e| e.reps = 1001),
        entry(&|e| e.weight_kg = Some(1000.5)),
        entry(&|e| e.sets = 31),
        entry(&|e| e.set_plan = vec![working((5, 5), None); 31]),
        entry(&|e| e.set_plan = vec![working((12, 8), Some(Load::TargetRpe(11.0)))]),
        entry(&|e| e.set_plan = vec![working((5, 5), Some(Load::TargetRpe(0.5)))]),
        entry(&|e| e.set_plan = vec![working((5, 5), Some(Load::WeightKg(1001.0)))]),
        entry(&|e| e.set_plan = vec![working((5, 5), Some(Load::PercentOneRepMax(121.0)))]),
        entry(&|e| e.set_plan = vec![working((5, 5), Some(Load::TargetRir(11)))]),
        entry(&|e| e.set_plan = vec![working((1001, 1001), None)]),
        entry(&|e| e.tempo = "slow".into()),
        entry(&|e| {
            e.progression = Some(pb::ProgressionRule {
                rule: Some(Rule::DoubleProgression(pb::DoubleProgression {
                    add_kg: 2.5,
                })),
                ..Default::default()
            })
        }),
        entry(&|e| {
            e.progression = Some(pb::ProgressionRule {
                rule: Some(Rule::Linear(pb::LinearProgression {
                    add_kg: 51.0,
                    ..Default::default()
                })),
                deload_after_misses: 2,
                ..Default::default()
            })
        }),
        entry(&|e| {
            e.block = 5;
            e.block_kind = pb::BlockKind::Superset as i32;
        }),
        entry(&|e| e.block = 3),
        entry(&|e| e.exercise_id = uuid::Uuid::now_v7().to_string()),
        entry(&|e| e.exercise_id = "bad".into()),
        entry(&|e| {
            e.block = 7;
            e.block_kind = pb::BlockKind::Single as i32;
        }),
        entry(&|e| e.block = 7),
    ];
    let err = client
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(w),
            request_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
    let fields = violated_fields(&err);
    let x = |s: &str| format!("workout.exercises{s}");
    for expected in [
        "workout.title".to_string(),
        "workout.duration_seconds".into(),
        "workout.estimated_calories".into(),
        "workout.difficulty".into(),
        "workout.category_ids[0]".into(),
        "workout.thumbnail_url".into(),
        x("[0].reps"),
        x("[1].weight_kg"),
        x("[2].sets"),
        x("[3].set_plan"),
        x("[4].set_plan[0].reps_max"),
        x("[4].set_plan[0].target_rpe"),
        x("[5].set_plan[0].target_rpe"),
        x("[6].set_plan[0].weight_kg"),
        x("[7].set_plan[0].percent_one_rep_max"),
        x("[8].set_plan[0].target_rir"),
        x("[9].set_plan[0].reps_min"),
        x("[10].tempo"),
        x("[11].progression.double_progression"),
        x("[12].progression.linear.add_kg"),
        x("[12].progression.deload_percent"),
        x("[13].block_kind"),
        x("[14].block"),
        x("[15].exercise_id"),
        x("[16].exercise_id"),
        x("[18].block"),
    ] {
        assert!(
            fields.contains(&expected),
            "{expected} missing from {fields:?}"
        );
    }

    let mut too_many = simple(&vec![squat.as_str(); 51]);
    too_many.title = "Too long".into();
    let err = client
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(too_many),
            request_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["workout.exercises"]);
    let err = client
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(simple(&[])),
            request_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["workout.exercises"]);
    let fifty = create_workout(&mut client, &trainer, simple(&vec![squat.as_str(); 50])).await;
    assert_eq!(fifty.exercise_count, 50, "50 is allowed");
    let listed = listed(
        &mut client,
        &trainer,
        pb::ListWorkoutsRequest {
            creator_id: trainer.id_str(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(listed.len(), 1, "nothing stored by the refused calls");
}

#[tokio::test]
async fn create_workout_is_idempotent_by_request_id() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let w = simple(&[&squat]);
    let key = request_id();
    let call = |w: pb::Workout| {
        trainer.req(pb::CreateWorkoutRequest {
            workout: Some(w),
            request_id: key.clone(),
        })
    };
    let first = client
        .create_workout(call(w.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .create_workout(call(w.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let mut other = w.clone();
    other.title = "Different".into();
    assert_status(
        &client.create_workout(call(other)).await.unwrap_err(),
        Code::InvalidArgument,
        None,
    );
    let err = client
        .create_workout(trainer.req(pb::CreateWorkoutRequest {
            workout: Some(w),
            request_id: "x".repeat(65),
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["request_id"]);
    let mine = listed(
        &mut client,
        &trainer,
        pb::ListWorkoutsRequest {
            creator_id: trainer.id_str(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(mine.len(), 1, "one row");
}
