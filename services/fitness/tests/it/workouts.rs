//! Tests of workouts: blocks and set plans, validation limits, visibility and premium
//! gating, list filters and pages, updates, deletes and idempotency.

mod access;
mod limits;

use tonic::Code;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::progression_rule::Rule;
use tribe_proto::fitness::v1::set_prescription::Load;

use crate::common::{Client, Person, assert_status, exercise_id, mask, start};
use crate::fixtures::{create_workout, simple};

pub async fn get(
    client: &mut Client,
    who: &Person,
    id: &str,
) -> Result<pb::Workout, tonic::Status> {
    client
        .get_workout(who.req(pb::GetWorkoutRequest {
            workout_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().workout.expect("workout"))
}

pub async fn listed(
    client: &mut Client,
    who: &Person,
    req: pb::ListWorkoutsRequest,
) -> Vec<pb::Workout> {
    client
        .list_workouts(who.req(req))
        .await
        .expect("list workouts")
        .into_inner()
        .workouts
}

pub fn set(
    kind: pb::SetType,
    reps: (i32, i32),
    load: Option<Load>,
    rest: i32,
) -> pb::SetPrescription {
    pb::SetPrescription {
        set_type: kind as i32,
        reps_min: reps.0,
        reps_max: reps.1,
        load,
        rest_seconds: rest,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_workout_with_supersets_and_set_plans_round_trips() {
    let env = start().await;
    let mut client = env.client();
    let (trainer, member) = (env.trainer(), env.member());
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let bench = exercise_id(&mut client, &trainer, "Barbell bench press").await;
    let row = exercise_id(&mut client, &trainer, "Pull-up").await;
    let curl = exercise_id(&mut client, &trainer, "Dumbbell biceps curl").await;
    let run = exercise_id(&mut client, &trainer, "Treadmill running").await;
    let squat_plan = vec![
        set(pb::SetType::WarmUp, (5, 5), Some(Load::WeightKg(60.0)), 60),
        set(
            pb::SetType::Working,
            (5, 5),
            Some(Load::WeightKg(100.0)),
            180,
        ),
        set(pb::SetType::Amrap, (5, 0), Some(Load::WeightKg(90.0)), 0),
    ];
    let linear = pb::ProgressionRule {
        rule: Some(Rule::Linear(pb::LinearProgression {
            add_kg: 2.5,
            add_percent: 0.0,
            after_sessions: 1,
        })),
        deload_after_misses: 3,
        deload_percent: 10.0,
        load_step_kg: 2.5,
    };
    let double = pb::ProgressionRule {
        rule: Some(Rule::DoubleProgression(pb::DoubleProgression {
            add_kg: 2.5,
        })),
        ..Default::default()
    };
    let mut workout = simple(&[]);
    workout.exercises = vec![
        pb::WorkoutExercise {
            exercise_id: squat.clone(),
            set_plan: squat_plan.clone(),
            progression: Some(linear),
            tempo: "3-1-x-0".into(),
            notes: "Brace".into(),
            ..Default::default()
        },
        pb::WorkoutExercise {
            exercise_id: bench.clone(),
            block: 2,
            block_kind: pb::BlockKind::Superset as i32,
            set_plan: vec![
                set(
                    pb::SetType::Working,
                    (8, 12),
                    Some(Load::PercentOneRepMax(70.0)),
                    0
                );
                3
            ],
            progression: Some(double),
            ..Default::default()
        },
        pb::WorkoutExercise {
            exercise_id: row.clone(),
            block: 2,
            set_plan: vec![
                set(
                    pb::SetType::Unspecified,
                    (6, 10),
                    Some(Load::TargetRpe(8.0)),
                    120
                );
                3
            ],
            ..Default::default()
        },
        pb::WorkoutExercise {
            exercise_id: curl.clone(),
            sets: 3,
            reps: 12,
            weight_kg: Some(10.0),
            rest_seconds: 60,
            ..Default::default()
        },
        pb::WorkoutExercise {
            exercise_id: run.clone(),
            set_plan: vec![pb::SetPrescription {
                duration_seconds: 600,
                distance_meters: 2000.0,
                load: Some(Load::TargetRir(3)),
                ..Default::default()
            }],
            ..Default::default()
        },
    ];
    let made = create_workout(&mut client, &trainer, workout.clone()).await;
    assert_eq!(made.exercise_count, 5);
    assert_eq!(made.visibility, pb::WorkoutVisibility::Public as i32);
    assert!(!made.is_premium);
    assert_eq!(made.creator.as_ref().unwrap().user_id, trainer.id_str());
    let e = &made.exercises;
    assert_eq!(
        e.iter().map(|x| x.position).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        e.iter().map(|x| x.block).collect::<Vec<_>>(),
        vec![1, 2, 2, 3, 4]
    );
    let kinds: Vec<i32> = e.iter().map(|x| x.block_kind).collect();
    let (single, superset) = (pb::BlockKind::Single as i32, pb::BlockKind::Superset as i32);
    assert_eq!(kinds, vec![single, superset, superset, single, single]);
    assert_eq!(
        e[0].exercise.as_ref().unwrap().name,
        "Barbell back squat",
        "hydrated"
    );
    assert_eq!(e[0].set_plan[0], squat_plan[0]);
    assert_eq!(
        e[0].set_plan[2].reps_max, 5,
        "reps_max 0 means the fixed count"
    );
    assert_eq!(e[0].sets, 3);
    assert_eq!(e[0].reps, 5, "flat fields mirror the first working set");
    assert_eq!(e[0].weight_kg, Some(100.0));
    assert_eq!(e[0].progression, Some(linear));
    assert_eq!(e[0].tempo, "3-1-X-0");
    assert_eq!(
        e[2].set_plan[0].set_type,
        pb::SetType::Working as i32,
        "unset = WORKING"
    );
    assert_eq!(e[2].set_plan[0].load, Some(Load::TargetRpe(8.0)));
    assert_eq!(
        e[3].set_plan,
        vec![
            set(
                pb::SetType::Working,
                (12, 12),
                Some(Load::WeightKg(10.0)),
                60
            );
            3
        ],
        "flat fields normalised"
    );
    assert_eq!(e[4].set_plan[0].distance_meters, 2000.0);

    let read = get(&mut client, &member, &made.workout_id).await.unwrap();
    assert_eq!(read, made, "a read returns what was created");

    let updated = client
        .update_workout(trainer.req(pb::UpdateWorkoutRequest {
            workout: Some(pb::Workout {
                workout_id: made.workout_id.clone(),
                title: "Renamed".into(),
                exercises: vec![pb::WorkoutExercise {
                    exercise_id: curl.clone(),
                    sets: 2,
                    reps: 15,
                    ..Default::default()
                }],
                ..Default::default()
            }),
            update_mask: mask(&["title", "exercises"]),
        }))
        .await
        .unwrap()
        .into_inner()
        .workout
        .unwrap();
    assert_eq!(updated.title, "Renamed");
    assert_eq!(updated.exercise_count, 1);
    assert_eq!(updated.exercises[0].set_plan.len(), 2);
    assert_eq!(
        updated.duration_seconds, made.duration_seconds,
        "unmasked fields kept"
    );
    assert_eq!(
        get(&mut client, &member, &made.workout_id).await.unwrap(),
        updated
    );

    client
        .delete_workout(trainer.req(pb::DeleteWorkoutRequest {
            workout_id: made.workout_id.clone(),
        }))
        .await
        .unwrap();
    assert_status(
        &get(&mut client, &member, &made.workout_id)
            .await
            .unwrap_err(),
        Code::NotFound,
        None,
    );
    let err = client
        .delete_workout(trainer.req(pb::DeleteWorkoutRequest {
            workout_id: made.workout_id,
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
}

#[tokio::test]
async fn list_filters_combine_and_pages_are_bound() {
    let env = start().await;
    let mut client = env.client();
    let (trainer, member) = (env.trainer(), env.member());
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let curl = exercise_id(&mut client, &trainer, "Dumbbell biceps curl").await;
    let run = exercise_id(&mut client, &trainer, "Treadmill running").await;
    let mut legs = simple(&[&squat]);
    legs.title = "Heavy leg day".into();
    legs.difficulty = pb::Difficulty::Advanced as i32;
    legs.duration_seconds = 3600;
    let mut arms = simple(&[&curl]);
    arms.title = "Arm pump".into();
    arms.category_ids = vec!["hypertrophy".into()];
    arms.duration_seconds = 1200;
    let mut cardio = simple(&[&run]);
    cardio.title = "Easy cardio".into();
    cardio.description = "Steady treadmill intervals".into();
    cardio.category_ids = vec!["cardio".into()];
    let legs = create_workout(&mut client, &trainer, legs).await;
    let arms = create_workout(&mut client, &trainer, arms).await;
    let cardio = create_workout(&mut client, &trainer, cardio).await;
    let titles = |ws: Vec<pb::Workout>| ws.into_iter().map(|w| w.workout_id).collect::<Vec<_>>();
    let all = titles(listed(&mut client, &member, pb::ListWorkoutsRequest::default()).await);
    assert_eq!(
        all,
        vec![
            cardio.workout_id.clone(),
            arms.workout_id.clone(),
            legs.workout_id.clone()
        ],
        "newest first"
    );
    let q = |r: pb::ListWorkoutsRequest| r;
    for (req, want) in [
        (
            q(pb::ListWorkoutsRequest {
                category_id: "hypertrophy".into(),
                ..Default::default()
            }),
            vec![&arms],
        ),
        (
            q(pb::ListWorkoutsRequest {
                difficulty: pb::Difficulty::Advanced as i32,
                ..Default::default()
            }),
            vec![&legs],
        ),
        (
            q(pb::ListWorkoutsRequest {
                min_duration_seconds: 1500,
                max_duration_seconds: 2000,
                ..Default::default()
            }),
            vec![&cardio],
        ),
        (
            q(pb::ListWorkoutsRequest {
                equipment: pb::Equipment::Dumbbell as i32,
                ..Default::default()
            }),
            vec![&arms],
        ),
        (
            q(pb::ListWorkoutsRequest {
                muscle_group: pb::MuscleGroup::Biceps as i32,
                ..Default::default()
            }),
            vec![&arms],
        ),
        (
            q(pb::ListWorkoutsRequest {
                query: "treadmill".into(),
                ..Default::default()
            }),
            vec![&cardio],
        ),
        (
            q(pb::ListWorkoutsRequest {
                query: "leg".into(),
                ..Default::default()
            }),
            vec![&legs],
        ),
        (
            q(pb::ListWorkoutsRequest {
                creator_id: member.id_str(),
                ..Default::default()
            }),
            vec![],
        ),
    ] {
        let want: Vec<String> = want.into_iter().map(|w| w.workout_id.clone()).collect();
        assert_eq!(
            titles(listed(&mut client, &member, req.clone()).await),
            want,
            "{req:?}"
        );
    }
    let first = client
        .list_workouts(member.req(pb::ListWorkoutsRequest {
            page_size: 2,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.workouts.len(), 2);
    let second = client
        .list_workouts(member.req(pb::ListWorkoutsRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(titles(second.workouts), vec![legs.workout_id.clone()]);
    assert!(second.next_page_token.is_empty());
    for (who, req) in [
        (
            &trainer,
            pb::ListWorkoutsRequest {
                page_token: first.next_page_token.clone(),
                ..Default::default()
            },
        ),
        (
            &member,
            pb::ListWorkoutsRequest {
                page_token: first.next_page_token.clone(),
                difficulty: 1,
                ..Default::default()
            },
        ),
        (
            &member,
            pb::ListWorkoutsRequest {
                page_token: "AAAA".into(),
                ..Default::default()
            },
        ),
        (
            &member,
            pb::ListWorkoutsRequest {
                page_size: -1,
                ..Default::default()
            },
        ),
        (
            &member,
            pb::ListWorkoutsRequest {
                min_duration_seconds: 100,
                max_duration_seconds: 50,
                ..Default::default()
            },
        ),
        (
            &member,
            pb::ListWorkoutsRequest {
                query: "q".repeat(101),
                ..Default::default()
            },
        ),
    ] {
        assert_status(
            &client.list_workouts(who.req(req)).await.unwrap_err(),
            Code::InvalidArgument,
            None,
        );
    }
}
