//! Submission, review, edits and deletes of catalog exercises, and create validation.

use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use super::names;
use crate::common::{
    Person, assert_status, exercise_id, mask, request_id, start, unique, violated_fields,
};
use crate::fixtures::{create_exercise, create_workout, new_exercise, simple};

#[tokio::test]
async fn a_submission_is_private_until_approved_and_a_rejection_carries_its_note() {
    let env = start().await;
    let mut client = env.client();
    let (trainer, other, admin) = (env.trainer(), env.member(), env.admin());
    let name = unique("Kettlebell thing");
    let mine = create_exercise(&mut client, &trainer, new_exercise(&name)).await;
    assert_eq!(mine.status, pb::ExerciseStatus::PendingReview as i32);
    assert_eq!(mine.creator.as_ref().unwrap().user_id, trainer.id_str());
    assert_eq!(
        mine.primary_muscle_groups,
        vec![
            pb::MuscleGroup::Quadriceps as i32,
            pb::MuscleGroup::Glutes as i32
        ],
        "groups derived from the muscles"
    );
    assert_eq!(
        mine.secondary_muscle_groups,
        vec![pb::MuscleGroup::Hamstrings as i32]
    );
    let get = |id: &str| pb::GetExerciseRequest {
        exercise_id: id.into(),
    };
    let err = client
        .get_exercise(other.req(get(&mine.exercise_id)))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
    assert!(
        !names(
            &mut client,
            &other,
            pb::ListExercisesRequest {
                query: name.clone(),
                ..Default::default()
            }
        )
        .await
        .contains(&name)
    );
    assert!(
        names(
            &mut client,
            &trainer,
            pb::ListExercisesRequest {
                query: name.clone(),
                ..Default::default()
            }
        )
        .await
        .contains(&name)
    );
    let pending = names(
        &mut client,
        &admin,
        pb::ListExercisesRequest {
            status: pb::ExerciseStatus::PendingReview as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(
        pending.contains(&name),
        "admins see every pending submission"
    );
    let pending = names(
        &mut client,
        &other,
        pb::ListExercisesRequest {
            status: pb::ExerciseStatus::PendingReview as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(pending.is_empty(), "others see none of them");

    let err = client
        .review_exercise(trainer.req(pb::ReviewExerciseRequest {
            exercise_id: mine.exercise_id.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            note: String::new(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
    let err = client
        .review_exercise(admin.req(pb::ReviewExerciseRequest {
            exercise_id: mine.exercise_id.clone(),
            decision: 0,
            note: "x".repeat(501),
        }))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["decision", "note"]);
    let approved = client
        .review_exercise(admin.req(pb::ReviewExerciseRequest {
            exercise_id: mine.exercise_id.clone(),
            decision: pb::ReviewDecision::Approve as i32,
            note: "looks good".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(approved.status, pb::ExerciseStatus::Approved as i32);
    let seen = client
        .get_exercise(other.req(get(&mine.exercise_id)))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(seen.name, name);

    let second = create_exercise(
        &mut client,
        &trainer,
        new_exercise(&unique("Rejected move")),
    )
    .await;
    let rejected = client
        .review_exercise(admin.req(pb::ReviewExerciseRequest {
            exercise_id: second.exercise_id.clone(),
            decision: pb::ReviewDecision::Reject as i32,
            note: "duplicate of the goblet squat".into(),
        }))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(rejected.status, pb::ExerciseStatus::Rejected as i32);
    let own = client
        .get_exercise(trainer.req(get(&second.exercise_id)))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(own.review_note, "duplicate of the goblet squat");
    let err = client
        .get_exercise(other.req(get(&second.exercise_id)))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);

    let by_admin = create_exercise(&mut client, &admin, new_exercise(&unique("Admin move"))).await;
    assert_eq!(by_admin.status, pb::ExerciseStatus::Approved as i32);
    let err = client
        .create_exercise(other.req(pb::CreateExerciseRequest {
            exercise: Some(new_exercise("Nope")),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
}

#[tokio::test]
async fn create_validates_every_field_and_names_are_unique_case_insensitively() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let bad = pb::Exercise {
        name: " ".into(),
        description: "d".repeat(2001),
        instructions: vec!["".into()],
        primary_muscles: vec![pb::Muscle::Hamstrings as i32, pb::Muscle::Hamstrings as i32],
        secondary_muscles: vec![pb::Muscle::Hamstrings as i32],
        equipment: vec![],
        difficulty: 0,
        mechanics: 0,
        aliases: vec!["a".repeat(101)],
        category_ids: vec!["no-such-category".into()],
        thumbnail_url: "http://insecure.example.com/x.png".into(),
        video_url: "not a url".into(),
        ..Default::default()
    };
    let err = client
        .create_exercise(trainer.req(pb::CreateExerciseRequest {
            exercise: Some(bad),
            request_id: "".into(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
    let mut fields = violated_fields(&err);
    fields.sort();
    fields.dedup();
    assert_eq!(
        fields,
        vec![
            "exercise.aliases[0]",
            "exercise.category_ids[0]",
            "exercise.description",
            "exercise.difficulty",
            "exercise.equipment",
            "exercise.instructions[0]",
            "exercise.mechanics",
            "exercise.name",
            "exercise.primary_muscles[1]",
            "exercise.secondary_muscles[0]",
            "exercise.thumbnail_url",
            "exercise.video_url",
        ]
    );
    let err = client
        .create_exercise(trainer.req(pb::CreateExerciseRequest {
            exercise: Some(new_exercise("barbell BACK squat")),
            request_id: request_id(),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::AlreadyExists, Some("EXERCISE_EXISTS"));
}

#[tokio::test]
async fn create_exercise_is_idempotent_by_request_id() {
    let env = start().await;
    let mut client = env.client();
    let trainer = env.trainer();
    let key = request_id();
    let name = unique("Idempotent move");
    let call = |exercise: pb::Exercise| pb::CreateExerciseRequest {
        exercise: Some(exercise),
        request_id: key.clone(),
    };
    let first = client
        .create_exercise(trainer.req(call(new_exercise(&name))))
        .await
        .unwrap()
        .into_inner();
    let again = client
        .create_exercise(trainer.req(call(new_exercise(&name))))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let err = client
        .create_exercise(trainer.req(call(new_exercise(&unique("Other")))))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
    let mine = names(
        &mut client,
        &trainer,
        pb::ListExercisesRequest {
            status: pb::ExerciseStatus::PendingReview as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(mine, vec![name], "one row");
}

#[tokio::test]
async fn edits_and_deletes_are_for_the_creator_and_admins() {
    let env = start().await;
    let mut client = env.client();
    let (owner, rival, admin) = (env.trainer(), env.trainer(), env.admin());
    let made = create_exercise(&mut client, &owner, new_exercise(&unique("Owned move"))).await;
    client
        .review_exercise(admin.req(pb::ReviewExerciseRequest {
            exercise_id: made.exercise_id.clone(),
            decision: 1,
            note: String::new(),
        }))
        .await
        .unwrap();
    let edit = |who: &Person, name: &str| {
        who.req(pb::UpdateExerciseRequest {
            exercise: Some(pb::Exercise {
                exercise_id: made.exercise_id.clone(),
                name: name.into(),
                primary_muscles: vec![pb::Muscle::TricepsBrachii as i32],
                ..Default::default()
            }),
            update_mask: mask(&["name", "primary_muscles"]),
        })
    };
    let err = client
        .update_exercise(edit(&rival, "Stolen"))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
    let new_name = unique("Renamed move");
    let edited = client
        .update_exercise(edit(&owner, &new_name))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(edited.name, new_name);
    assert_eq!(
        edited.status,
        pb::ExerciseStatus::PendingReview as i32,
        "a trainer's edit goes back to review"
    );
    assert_eq!(
        edited.primary_muscle_groups,
        vec![pb::MuscleGroup::Triceps as i32],
        "groups re-derived"
    );
    assert_eq!(edited.equipment, made.equipment, "unmasked fields kept");
    let err = client
        .update_exercise(edit(&owner, "Pull-up"))
        .await
        .unwrap_err();
    assert_status(&err, Code::AlreadyExists, Some("EXERCISE_EXISTS"));
    let err = client
        .update_exercise(owner.req(pb::UpdateExerciseRequest {
            exercise: Some(pb::Exercise {
                exercise_id: made.exercise_id.clone(),
                ..Default::default()
            }),
            update_mask: mask(&["status"]),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
    let squat = exercise_id(&mut client, &owner, "Barbell back squat").await;
    let err = client
        .update_exercise(owner.req(pb::UpdateExerciseRequest {
            exercise: Some(pb::Exercise {
                exercise_id: squat.clone(),
                description: "mine now".into(),
                ..Default::default()
            }),
            update_mask: mask(&["description"]),
        }))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);
    let by_admin = client
        .update_exercise(admin.req(pb::UpdateExerciseRequest {
            exercise: Some(pb::Exercise {
                exercise_id: squat.clone(),
                description: "The king of leg lifts.".into(),
                ..Default::default()
            }),
            update_mask: mask(&["description"]),
        }))
        .await
        .unwrap()
        .into_inner()
        .exercise
        .unwrap();
    assert_eq!(
        by_admin.status,
        pb::ExerciseStatus::Approved as i32,
        "an admin's edit stays approved"
    );

    let del = |who: &Person, id: &str| {
        who.req(pb::DeleteExerciseRequest {
            exercise_id: id.into(),
        })
    };
    let err = client
        .delete_exercise(del(&rival, &made.exercise_id))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None); // pending again, so invisible to the rival
    client
        .delete_exercise(del(&owner, &made.exercise_id))
        .await
        .unwrap();
    let err = client
        .delete_exercise(del(&owner, &made.exercise_id))
        .await
        .unwrap_err();
    assert_status(&err, Code::NotFound, None);
    let err = client
        .delete_exercise(del(&owner, "nope"))
        .await
        .unwrap_err();
    assert_status(&err, Code::InvalidArgument, None);
    let err = client
        .delete_exercise(del(&rival, &squat))
        .await
        .unwrap_err();
    assert_status(&err, Code::PermissionDenied, None);

    // In use by a workout: refused until the workout is gone.
    let used = create_exercise(&mut client, &admin, new_exercise(&unique("Used move"))).await;
    let workout = create_workout(&mut client, &owner, simple(&[&used.exercise_id])).await;
    let err = client
        .delete_exercise(del(&admin, &used.exercise_id))
        .await
        .unwrap_err();
    assert_status(&err, Code::FailedPrecondition, Some("EXERCISE_IN_USE"));
    client
        .delete_workout(owner.req(pb::DeleteWorkoutRequest {
            workout_id: workout.workout_id,
        }))
        .await
        .unwrap();
    client
        .delete_exercise(del(&admin, &used.exercise_id))
        .await
        .unwrap();
}
