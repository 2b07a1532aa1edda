//! Progress logs: target vs actual against a trainer's workout, every validation limit,
//! idempotent retries, edits and deletes, and who may read a user's logs.

mod access;

use chrono::Utc;
use tonic::Code;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Person, assert_status, exercise_id, mask, request_id, start, violated_fields};
use crate::fixtures::{
    ago, events, exercise, list, log, payloads, session, set, squat, squat_workout, try_log, ts,
};

#[tokio::test]
async fn target_vs_actual_round_trip() {
    let env = start().await;
    let trainer = env.trainer();
    let member = env.member();
    let (workout_id, squat) = squat_workout(&env, &trainer).await;
    let mut performed = exercise(
        &squat,
        vec![
            set(5, 100.0),
            set(4, 100.0),
            set(6, 95.0),
            pb::SetLog {
                prescribed_set: 3,
                completed: Some(false),
                ..set(5, 100.0)
            },
        ],
    );
    performed.workout_position = 1;
    let logged = log(
        &env,
        &member,
        pb::ProgressLog {
            workout_id: workout_id.clone(),
            rating: 4,
            perceived_exertion: 8,
            ..session(ago(1), vec![performed])
        },
    )
    .await;
    let met: Vec<bool> = logged.exercises[0]
        .sets
        .iter()
        .map(|s| s.target_met)
        .collect();
    // Reps below the floor, load below the prescription, and an unfinished set miss.
    assert_eq!(met, [true, false, false, false]);
    assert_eq!(logged.exercises[0].sets[3].prescribed_set, 3);
    assert_eq!(logged.title, "Squat day", "defaults to the workout's title");
    assert_eq!(logged.user_id, member.id_str());
    // The unfinished set lifts nothing.
    assert!((logged.volume_kg - (500.0 + 400.0 + 570.0)).abs() < 1e-6);
    assert_eq!(logged.exercises[0].exercise_name, "Barbell back squat");

    let listed = list(&env, &member, &member).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].progress_log_id, logged.progress_log_id);
    assert_eq!(listed[0].exercises, logged.exercises);
    assert_eq!(listed[0].workout_id, workout_id);
}

#[tokio::test]
async fn links_must_fit_the_workout() {
    let env = start().await;
    let trainer = env.trainer();
    let member = env.member();
    let (workout_id, squat) = squat_workout(&env, &trainer).await;
    let bench = exercise_id(&mut env.client(), &member, "Barbell bench press").await;
    let mut beyond = exercise(&squat, vec![set(5, 100.0)]);
    beyond.workout_position = 2;
    let mut other = exercise(&bench, vec![set(5, 60.0)]);
    other.workout_position = 1;
    let mut out_of_range = exercise(
        &squat,
        vec![pb::SetLog {
            prescribed_set: 4,
            ..set(5, 100.0)
        }],
    );
    out_of_range.workout_position = 1;
    let status = try_log(
        &env,
        &member,
        pb::ProgressLog {
            workout_id,
            ..session(ago(1), vec![beyond, other, out_of_range])
        },
    )
    .await
    .unwrap_err();
    let fields = violated_fields(&status);
    for field in [
        "progress_log.exercises[0].workout_position",
        "progress_log.exercises[1].workout_position",
        "progress_log.exercises[2].sets[0].prescribed_set",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }
    assert!(list(&env, &member, &member).await.unwrap().is_empty());
}

#[tokio::test]
async fn every_limit_is_reported_at_once() {
    let env = start().await;
    let member = env.member();
    let squat = squat(&env, &member).await;
    let mut linked = exercise(
        &squat,
        vec![
            set(1001, 100.0),
            set(5, 1000.5),
            pb::SetLog {
                rpe: 11.0,
                ..set(5, 50.0)
            },
            pb::SetLog {
                rpe: 0.5,
                distance_meters: 100_001.0,
                duration_seconds: 86_401,
                prescribed_set: 1,
                ..set(5, 50.0)
            },
        ],
    );
    linked.workout_position = 1;
    let bad = pb::ProgressLog {
        duration_seconds: 0,
        calories: 20_001,
        perceived_exertion: 11,
        rating: 6,
        notes: "n".repeat(2001),
        title: "t".repeat(101),
        program_day_number: 3,
        completed_time: Some(prost_types::Timestamp {
            seconds: Utc::now().timestamp() + 600,
            nanos: 0,
        }),
        exercises: vec![linked],
        ..Default::default()
    };
    let status = try_log(&env, &member, bad).await.unwrap_err();
    let fields = violated_fields(&status);
    for field in [
        "progress_log.duration_seconds",
        "progress_log.calories",
        "progress_log.perceived_exertion",
        "progress_log.rating",
        "progress_log.notes",
        "progress_log.title",
        "progress_log.program_day_number",
        "progress_log.completed_time",
        "progress_log.exercises[0].sets[0].reps",
        "progress_log.exercises[0].sets[1].weight_kg",
        "progress_log.exercises[0].sets[2].rpe",
        "progress_log.exercises[0].sets[3].rpe",
        "progress_log.exercises[0].sets[3].distance_meters",
        "progress_log.exercises[0].sets[3].duration_seconds",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }
    // Without a workout or program day there is nothing to link to.
    assert!(fields.contains(&"progress_log.exercises[0].workout_position".to_string()));

    let too_many = (0..51)
        .map(|_| exercise(&squat, vec![set(5, 50.0)]))
        .collect();
    let status = try_log(&env, &member, session(ago(1), too_many))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["progress_log.exercises"]);
    let sets = exercise(&squat, (0..51).map(|_| set(5, 50.0)).collect());
    let no_sets = exercise(&squat, vec![]);
    let status = try_log(&env, &member, session(ago(1), vec![sets, no_sets]))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        [
            "progress_log.exercises[0].sets",
            "progress_log.exercises[1].sets"
        ]
    );
    let status = try_log(&env, &member, session(ts("1999-12-31T23:00:00Z"), vec![]))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["progress_log.completed_time"]);
    // The limits themselves are accepted; 5 minutes of clock skew too.
    let edge = exercise(
        &squat,
        vec![pb::SetLog {
            rpe: 10.0,
            ..set(1000, 1000.0)
        }],
    );
    let skew = prost_types::Timestamp {
        seconds: Utc::now().timestamp() + 240,
        nanos: 0,
    };
    let ok = log(
        &env,
        &member,
        pb::ProgressLog {
            duration_seconds: 86_400,
            calories: 20_000,
            rating: 5,
            perceived_exertion: 10,
            ..session(skew, (0..50).map(|_| edge.clone()).collect())
        },
    )
    .await;
    assert_eq!(ok.exercises.len(), 50);
    assert_eq!(list(&env, &member, &member).await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_references_are_not_found() {
    let env = start().await;
    let member = env.member();
    let squat = squat(&env, &member).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let status = try_log(
        &env,
        &member,
        pb::ProgressLog {
            workout_id: unknown.clone(),
            ..session(ago(1), vec![exercise(&squat, vec![set(5, 50.0)])])
        },
    )
    .await
    .unwrap_err();
    assert_status(&status, Code::NotFound, None);
    let status = try_log(
        &env,
        &member,
        session(ago(1), vec![exercise(&unknown, vec![set(5, 50.0)])]),
    )
    .await
    .unwrap_err();
    assert_status(&status, Code::NotFound, None);
    let status = try_log(
        &env,
        &member,
        session(ago(1), vec![exercise("nope", vec![set(5, 50.0)])]),
    )
    .await
    .unwrap_err();
    assert_eq!(
        violated_fields(&status),
        ["progress_log.exercises[0].exercise_id"]
    );
    assert!(list(&env, &member, &member).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_returns_the_first_log_and_one_event() {
    let env = start().await;
    let member = env.member();
    let squat = squat(&env, &member).await;
    let request = pb::LogProgressRequest {
        progress_log: Some(session(ago(2), vec![exercise(&squat, vec![set(5, 80.0)])])),
        request_id: request_id(),
    };
    let first = env
        .client()
        .log_progress(member.req(request.clone()))
        .await
        .unwrap()
        .into_inner();
    let again = env
        .client()
        .log_progress(member.req(request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, again);
    let mut changed = request.clone();
    changed.progress_log.as_mut().unwrap().calories = 999;
    let status = env
        .client()
        .log_progress(member.req(changed))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["request_id"]);
    assert_eq!(list(&env, &member, &member).await.unwrap().len(), 1);

    let events = events(&env, 2).await;
    let completed = payloads!(events, WorkoutCompleted);
    assert_eq!(completed.len(), 1, "{events:?}");
    let log_id = first.progress_log.unwrap().progress_log_id;
    assert_eq!(completed[0].progress_log_id, log_id);
    assert_eq!(completed[0].user_id, member.id_str());
    assert_eq!(completed[0].total_workouts, 1);
    assert_eq!(completed[0].current_streak_days, 1);
    assert!((completed[0].volume_kg - 400.0).abs() < 1e-9);
    let records = payloads!(events, PersonalRecordSet);
    assert_eq!(records.len(), 1);
    assert!(records[0].first_record);
    assert_eq!(records[0].progress_log_id, log_id);
}

#[tokio::test]
async fn edits_and_deletes_belong_to_the_owner() {
    let env = start().await;
    let member = env.member();
    let other = env.member();
    let admin = env.admin();
    let squat = squat(&env, &member).await;
    let logged = log(
        &env,
        &member,
        session(ago(30), vec![exercise(&squat, vec![set(5, 80.0)])]),
    )
    .await;
    let id = logged.progress_log_id.clone();
    let edit = |who: &Person, log: pb::ProgressLog, paths: &[&str]| {
        let mut client = env.client();
        let request = who.req(pb::UpdateProgressLogRequest {
            progress_log: Some(log),
            update_mask: mask(paths),
        });
        async move {
            client
                .update_progress_log(request)
                .await
                .map(|r| r.into_inner().progress_log.unwrap())
        }
    };
    let change = pb::ProgressLog {
        progress_log_id: id.clone(),
        title: "Heavy day".into(),
        rating: 5,
        exercises: vec![exercise(&squat, vec![set(5, 100.0), set(3, 110.0)])],
        ..Default::default()
    };
    for who in [&other, &admin] {
        let status = edit(who, change.clone(), &["title"]).await.unwrap_err();
        assert_status(&status, Code::PermissionDenied, None);
    }
    let status = edit(&member, change.clone(), &["user_id"])
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), ["update_mask"]);
    let status = edit(
        &member,
        pb::ProgressLog {
            rating: 6,
            ..change.clone()
        },
        &["rating"],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), ["progress_log.rating"]);
    let updated = edit(&member, change.clone(), &["title", "rating", "exercises"])
        .await
        .unwrap();
    assert_eq!(updated.title, "Heavy day");
    assert_eq!(updated.rating, 5);
    assert_eq!(updated.duration_seconds, 1800, "unmasked fields stay");
    assert!((updated.volume_kg - 830.0).abs() < 1e-9);
    assert_eq!(list(&env, &member, &member).await.unwrap()[0], updated);

    let stats = |who: &Person| {
        let mut client = env.client();
        let request = who.req(pb::GetProgressStatsRequest {
            user_id: member.id_str(),
            ..Default::default()
        });
        async move {
            client
                .get_progress_stats(request)
                .await
                .unwrap()
                .into_inner()
                .stats
                .unwrap()
        }
    };
    let before = stats(&member).await;
    assert_eq!(before.total_workouts, 1);
    assert!((before.total_volume_kg - 830.0).abs() < 1e-9);
    assert!((before.personal_records[0].estimated_one_rep_max_kg - 121.0).abs() < 1e-9);

    let delete = |who: &Person| {
        let mut client = env.client();
        let request = who.req(pb::DeleteProgressLogRequest {
            progress_log_id: id.clone(),
        });
        async move { client.delete_progress_log(request).await }
    };
    assert_status(
        &delete(&other).await.unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    delete(&member).await.unwrap();
    assert_status(&delete(&member).await.unwrap_err(), Code::NotFound, None);
    let after = stats(&member).await;
    assert_eq!(after.total_workouts, 0);
    assert!(after.personal_records.is_empty());
    assert!(after.last_completed_time.is_none());
    let status = edit(&member, change, &["title"]).await.unwrap_err();
    assert_status(&status, Code::NotFound, None);
}

#[tokio::test]
async fn concurrent_logs_of_one_user_count_consistently() {
    let env = start().await;
    let member = env.member();
    let squat = squat(&env, &member).await;
    let calls = (0..6).map(|i| {
        let log = session(
            ago(10 + i),
            vec![exercise(&squat, vec![set(5, 60.0 + i as f64)])],
        );
        try_log(&env, &member, log)
    });
    for result in futures::future::join_all(calls).await {
        result.expect("log");
    }
    let events = events(&env, 6).await;
    let mut totals: Vec<i64> = payloads!(events, WorkoutCompleted)
        .iter()
        .map(|c| c.total_workouts)
        .collect();
    totals.sort_unstable();
    assert_eq!(
        totals,
        [1, 2, 3, 4, 5, 6],
        "each log saw the ones before it"
    );
}
