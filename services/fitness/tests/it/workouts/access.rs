//! Who may read, change and delete workouts: premium, private, creators, programs.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use super::{get, listed};
use crate::common::{
    Person, assert_status, exercise_id, mask, request_id, start, unique, violated_fields,
};
use crate::fixtures::{create_exercise, create_workout, new_exercise, simple};

#[tokio::test]
async fn premium_workouts_need_premium_except_for_their_creator_and_admins() {
    let env = start().await;
    let mut client = env.client();
    let (trainer, free, paid, admin) = (
        env.trainer(),
        env.member(),
        env.premium_member(),
        env.admin(),
    );
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let mut w = simple(&[&squat]);
    w.is_premium = true;
    let made = create_workout(&mut client, &trainer, w).await;
    assert!(made.is_premium);
    assert_eq!(made.visibility, pb::WorkoutVisibility::Premium as i32);
    let err = get(&mut client, &free, &made.workout_id).await.unwrap_err();
    assert_status(&err, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    for who in [&paid, &trainer, &admin] {
        let got = get(&mut client, who, &made.workout_id).await.unwrap();
        assert_eq!(got.exercises.len(), 1);
    }
    let seen = listed(
        &mut client,
        &free,
        pb::ListWorkoutsRequest {
            premium_filter: pb::PremiumFilter::PremiumOnly as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(seen.len(), 1, "listed for everyone");
    assert!(seen[0].is_premium && seen[0].exercises.is_empty());
    assert_eq!(seen[0].exercise_count, 1);
    let free_only = listed(
        &mut client,
        &free,
        pb::ListWorkoutsRequest {
            premium_filter: pb::PremiumFilter::FreeOnly as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(free_only.is_empty());
}

#[tokio::test]
async fn private_workouts_are_for_their_creator_and_publishing_needs_a_trainer() {
    let env = start().await;
    let mut client = env.client();
    let (member, other, admin) = (env.member(), env.member(), env.admin());
    let squat = exercise_id(&mut client, &member, "Barbell back squat").await;
    let err = client
        .create_workout(member.req(pb::CreateWorkoutRequest {
            workout: Some(simple(&[&squat])),
            request_id: String::new(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
    let mut w = simple(&[&squat]);
    w.visibility = pb::WorkoutVisibility::Private as i32;
    let mine = create_workout(&mut client, &member, w).await;
    assert_status(
        &get(&mut client, &other, &mine.workout_id)
            .await
            .unwrap_err(),
        Code::NotFound,
        None,
    );
    assert_eq!(
        get(&mut client, &admin, &mine.workout_id)
            .await
            .unwrap()
            .workout_id,
        mine.workout_id
    );
    assert_eq!(
        get(&mut client, &member, &mine.workout_id).await.unwrap(),
        mine
    );
    assert!(
        listed(&mut client, &other, pb::ListWorkoutsRequest::default())
            .await
            .is_empty()
    );
    let own = listed(
        &mut client,
        &member,
        pb::ListWorkoutsRequest {
            visibility: pb::WorkoutVisibility::Private as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(own.len(), 1);
    let err = client
        .update_workout(member.req(pb::UpdateWorkoutRequest {
            workout: Some(pb::Workout {
                workout_id: mine.workout_id.clone(),
                visibility: pb::WorkoutVisibility::Public as i32,
                ..Default::default()
            }),
            update_mask: mask(&["visibility"]),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
    let err = client
        .update_workout(other.req(pb::UpdateWorkoutRequest {
            workout: Some(pb::Workout {
                workout_id: mine.workout_id.clone(),
                title: "Mine".into(),
                ..Default::default()
            }),
            update_mask: mask(&["title"]),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
    let err = client
        .delete_workout(other.req(pb::DeleteWorkoutRequest {
            workout_id: mine.workout_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
}

#[tokio::test]
async fn updates_and_deletes_are_authorized_and_masks_checked() {
    let env = start().await;
    let mut client = env.client();
    let (owner, rival, admin) = (env.trainer(), env.trainer(), env.admin());
    let squat = exercise_id(&mut client, &owner, "Barbell back squat").await;
    let made = create_workout(&mut client, &owner, simple(&[&squat])).await;
    let update = |who: &Person, paths: &[&str]| {
        who.req(pb::UpdateWorkoutRequest {
            workout: Some(pb::Workout {
                workout_id: made.workout_id.clone(),
                title: "New".into(),
                duration_seconds: 10,
                ..Default::default()
            }),
            update_mask: mask(paths),
        })
    };
    assert_status(
        &client
            .update_workout(update(&rival, &["title"]))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    for paths in [&["creator"][..], &["exercise_count"], &["bogus"], &[]] {
        assert_status(
            &client
                .update_workout(update(&owner, paths))
                .await
                .unwrap_err(),
            Code::InvalidArgument,
            None,
        );
    }
    let err = client
        .update_workout(update(&owner, &["title", "duration_seconds"]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["workout.duration_seconds"]);
    assert_eq!(
        get(&mut client, &owner, &made.workout_id)
            .await
            .unwrap()
            .title,
        made.title,
        "nothing changed"
    );
    let premium = client
        .update_workout(owner.req(pb::UpdateWorkoutRequest {
            workout: Some(pb::Workout {
                workout_id: made.workout_id.clone(),
                is_premium: true,
                ..Default::default()
            }),
            update_mask: mask(&["is_premium"]),
        }))
        .await
        .unwrap()
        .into_inner()
        .workout
        .unwrap();
    assert_eq!(premium.visibility, pb::WorkoutVisibility::Premium as i32);
    assert_eq!(premium.exercises, made.exercises, "entries kept");
    assert_status(
        &client
            .delete_workout(rival.req(pb::DeleteWorkoutRequest {
                workout_id: made.workout_id.clone(),
            }))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    client
        .delete_workout(admin.req(pb::DeleteWorkoutRequest {
            workout_id: made.workout_id.clone(),
        }))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_workout_scheduled_in_a_program_cannot_be_deleted() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let made = create_workout(&mut client, &trainer, simple(&[&squat])).await;
    client
        .create_program(trainer.req(pb::CreateProgramRequest {
            program: Some(pb::Program {
                title: unique("Program"),
                difficulty: pb::Difficulty::Beginner as i32,
                days: vec![pb::ProgramDay {
                    day_number: 1,
                    workout_id: made.workout_id.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("create program");
    let err = client
        .delete_workout(trainer.req(pb::DeleteWorkoutRequest {
            workout_id: made.workout_id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::FailedPrecondition, Some("WORKOUT_IN_PROGRAM"));
    assert!(get(&mut client, &trainer, &made.workout_id).await.is_ok());
}

#[tokio::test]
async fn pending_exercises_stay_in_their_authors_private_workouts() {
    let env = start().await;
    let mut client = env.client();
    let (author, other, admin) = (env.trainer(), env.trainer(), env.admin());
    let squat = exercise_id(&mut client, &author, "Barbell back squat").await;
    let pending = new_exercise(&unique("Pending move"));
    let pending = create_exercise(&mut client, &author, pending)
        .await
        .exercise_id;
    let private = |ids: &[&str]| pb::Workout {
        visibility: pb::WorkoutVisibility::Private as i32,
        ..simple(ids)
    };
    let mine = create_workout(&mut client, &author, private(&[&squat, &pending])).await;
    assert_eq!(
        mine.exercises[1].exercise.as_ref().unwrap().exercise_id,
        pending
    );
    let create = |who: &Person, workout: pb::Workout| {
        let mut client = env.client();
        let req = who.req(pb::CreateWorkoutRequest {
            workout: Some(workout),
            request_id: String::new(),
        });
        async move { client.create_workout(req).await }
    };
    // Not in a workout others see, and not at all in another trainer's.
    for visibility in [
        pb::WorkoutVisibility::Public,
        pb::WorkoutVisibility::Premium,
    ] {
        let public = pb::Workout {
            visibility: visibility as i32,
            ..simple(&[&squat, &pending])
        };
        let err = create(&author, public).await.unwrap_err();
        assert_eq!(
            violated_fields(&err),
            vec!["workout.exercises[1].exercise_id"]
        );
    }
    let err = create(&other, private(&[&pending])).await.unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec!["workout.exercises[0].exercise_id"]
    );

    // Publishing the private workout, or putting the exercise into a public one, is
    // refused the same way.
    let update = |workout: pb::Workout, paths: &[&str]| {
        let mut client = env.client();
        let req = author.req(pb::UpdateWorkoutRequest {
            workout: Some(workout),
            update_mask: mask(paths),
        });
        async move { client.update_workout(req).await }
    };
    let publish = pb::Workout {
        workout_id: mine.workout_id.clone(),
        visibility: pb::WorkoutVisibility::Public as i32,
        ..Default::default()
    };
    let premium = pb::Workout {
        workout_id: mine.workout_id.clone(),
        is_premium: true,
        ..Default::default()
    };
    let public = create_workout(&mut client, &author, simple(&[&squat])).await;
    let add = pb::Workout {
        workout_id: public.workout_id.clone(),
        exercises: simple(&[&pending]).exercises,
        ..Default::default()
    };
    for (change, paths, field) in [
        (
            publish.clone(),
            &["visibility"],
            "workout.exercises[1].exercise_id",
        ),
        (premium, &["is_premium"], "workout.exercises[1].exercise_id"),
        (add, &["exercises"], "workout.exercises[0].exercise_id"),
    ] {
        let err = update(change, paths).await.unwrap_err();
        assert_eq!(violated_fields(&err), vec![field]);
    }
    let err = get(&mut client, &other, &mine.workout_id)
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
    let seen = get(&mut client, &other, &public.workout_id).await.unwrap();
    assert_eq!(seen.exercises.len(), 1);
    assert_eq!(seen.exercises[0].exercise_id, squat);

    // Once approved it may be published, and others see it.
    client
        .review_exercise(admin.req(pb::ReviewExerciseRequest {
            exercise_id: pending.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            note: String::new(),
        }))
        .await
        .unwrap();
    let published = update(publish, &["visibility"]).await.unwrap().into_inner();
    let published = published.workout.unwrap();
    assert_eq!(published.visibility, pb::WorkoutVisibility::Public as i32);
    let seen = get(&mut client, &other, &mine.workout_id).await.unwrap();
    assert_eq!(seen.exercises[1].exercise_id, pending);
}
