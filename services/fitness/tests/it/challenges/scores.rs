//! Tests of challenge scores: leaderboards, completion awards and the finaliser.

use std::time::Duration;

use chrono::Utc;

use tonic::Code;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;

use super::{challenge, create, get, join, leaderboard, log, start_of, try_create};
use crate::common::{assert_status, exercise_id, request_id, start, violated_fields};
use crate::fixtures::{create_workout, events, simple, timestamp as ts};

#[tokio::test]
async fn leaderboard_ranks_ties_together_and_counts_late_joiners() {
    let env = start().await;
    let trainer = env.trainer();
    let c = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::Minutes, 60.0, 2, 3600),
    )
    .await;
    let id = c.challenge_id.clone();
    let inside = start_of(&c) + chrono::Duration::seconds(30);
    let [a, b, cc, d, late] = [
        env.member(),
        env.member(),
        env.member(),
        env.member(),
        env.member(),
    ];
    for p in [&a, &b, &cc, &d] {
        join(&env, p, &id).await.unwrap();
    }
    log(&env, &a, 30, 0, inside).await;
    // Before the start: does not count.
    log(&env, &a, 500, 0, Utc::now() - chrono::Duration::hours(1)).await;
    log(&env, &b, 60, 0, inside).await;
    log(&env, &cc, 20, 0, inside).await;
    log(&env, &cc, 40, 0, inside).await;
    log(&env, &d, 10, 0, inside).await;
    // The late joiner trained before joining.
    log(&env, &late, 90, 0, inside).await;
    join(&env, &late, &id).await.unwrap();

    let page1 = leaderboard(&env, &d, &id, 2, "").await.unwrap();
    let row = |e: &pb::LeaderboardEntry| {
        (
            e.user.as_ref().unwrap().user_id.clone(),
            e.rank,
            e.score,
            e.goal_reached,
        )
    };
    assert_eq!(
        page1.entries.iter().map(row).collect::<Vec<_>>(),
        vec![(late.id_str(), 1, 90.0, true), (b.id_str(), 2, 60.0, true)]
    );
    let mine = page1.my_entry.as_ref().expect("my entry");
    assert_eq!(row(mine), (d.id_str(), 5, 10.0, false));
    let page2 = leaderboard(&env, &d, &id, 2, &page1.next_page_token)
        .await
        .unwrap();
    assert_eq!(
        page2.entries.iter().map(row).collect::<Vec<_>>(),
        vec![(cc.id_str(), 2, 60.0, true), (a.id_str(), 4, 30.0, false)]
    );
    assert_eq!(page2.my_entry.as_ref().map(row), Some(row(mine)));
    let page3 = leaderboard(&env, &d, &id, 2, &page2.next_page_token)
        .await
        .unwrap();
    assert_eq!(
        page3.entries.iter().map(row).collect::<Vec<_>>(),
        vec![row(mine)]
    );
    assert!(page3.next_page_token.is_empty());

    // Goal reached: completion times are set once the goal is met.
    assert!(get(&env, &late, &id).await.complete_time.is_some());
    let b_view = get(&env, &b, &id).await;
    assert_eq!(b_view.my_score, 60.0);
    assert!(b_view.complete_time.is_some());
    assert!(get(&env, &a, &id).await.complete_time.is_none());

    // An outsider sees the board without an own entry; tokens are the caller's own.
    let outsider = env.member();
    let board = leaderboard(&env, &outsider, &id, 0, "").await.unwrap();
    assert_eq!(board.entries.len(), 5);
    assert!(board.my_entry.is_none());
    let status = leaderboard(&env, &outsider, &id, 2, &page1.next_page_token)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = leaderboard(&env, &outsider, &id, -1, "").await.unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_size"]);
    let status = leaderboard(&env, &outsider, &uuid::Uuid::now_v7().to_string(), 0, "")
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, None);
}

#[tokio::test]
async fn completion_is_awarded_once_under_concurrent_logs() {
    let env = start().await;
    let trainer = env.trainer();
    let c = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::WorkoutsCompleted, 3.0, 2, 3600),
    )
    .await;
    let member = env.member();
    join(&env, &member, &c.challenge_id).await.unwrap();
    let inside = start_of(&c) + chrono::Duration::seconds(10);
    let logs: Vec<_> = (0..8)
        .map(|_| log(&env, &member, 20, 100, inside))
        .collect();
    futures::future::join_all(logs).await;

    let view = get(&env, &member, &c.challenge_id).await;
    assert_eq!(view.my_score, 8.0);
    assert!(view.complete_time.is_some());
    let completed: Vec<_> = events(&env, 10)
        .await
        .into_iter()
        .filter_map(|e| match e.payload {
            Some(Payload::ChallengeCompleted(done)) => Some(done),
            _ => None,
        })
        .collect();
    assert_eq!(completed.len(), 1, "{completed:?}");
    assert_eq!(completed[0].user_id, member.id_str());
    assert_eq!(completed[0].challenge_id, c.challenge_id);
    assert_eq!(completed[0].challenge_creator_id, trainer.id_str());
    assert!(completed[0].score >= 3.0);
}

#[tokio::test]
async fn ended_challenges_are_final_and_finalised() {
    let env = start().await;
    let trainer = env.trainer();
    let c = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::Calories, 500.0, 2, 4),
    )
    .await;
    let id = c.challenge_id.clone();
    let (winner, other) = (env.member(), env.member());
    join(&env, &winner, &id).await.unwrap();
    join(&env, &other, &id).await.unwrap();
    let inside = start_of(&c) + chrono::Duration::seconds(1);
    log(&env, &winner, 30, 600, inside).await;
    log(&env, &other, 30, 200, inside).await;

    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        get(&env, &winner, &id).await.state,
        pb::ChallengeState::Past as i32
    );
    let status = env
        .client()
        .leave_challenge(winner.req(pb::LeaveChallengeRequest {
            challenge_id: id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("CHALLENGE_ENDED"));
    let status = join(&env, &env.member(), &id).await.unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("CHALLENGE_ENDED"));
    assert!(get(&env, &winner, &id).await.joined);

    let mut finished: Vec<_> = events(&env, 6)
        .await
        .into_iter()
        .filter_map(|e| match e.payload {
            Some(Payload::ChallengeFinished(f)) => Some(f),
            _ => None,
        })
        .collect();
    finished.sort_by_key(|f| f.rank);
    assert_eq!(finished.len(), 2, "{finished:?}");
    assert_eq!(finished[0].user_id, winner.id_str());
    assert_eq!((finished[0].rank, finished[0].score), (1, 600.0));
    assert!(finished[0].goal_reached);
    assert_eq!(finished[1].user_id, other.id_str());
    assert_eq!((finished[1].rank, finished[1].score), (2, 200.0));
    assert!(!finished[1].goal_reached);
    assert!(finished.iter().all(|f| f.participant_count == 2));
    assert!(finished.iter().all(|f| f.challenge_title == "Spring push"));
}

#[tokio::test]
async fn workout_session_challenges_count_only_their_public_workout() {
    let env = start().await;
    let trainer = env.trainer();
    let mut client = env.client();
    let squat = exercise_id(&mut client, &trainer, "Barbell back squat").await;
    let public = create_workout(&mut client, &trainer, simple(&[&squat])).await;
    let private = create_workout(
        &mut client,
        &trainer,
        pb::Workout {
            visibility: pb::WorkoutVisibility::Private as i32,
            ..simple(&[&squat])
        },
    )
    .await;
    let mut refused = challenge(pb::ChallengeMetric::WorkoutSessions, 2.0, 2, 3600);
    refused.workout_id = private.workout_id.clone();
    let status = try_create(&env, &trainer, refused).await.unwrap_err();
    assert_eq!(violated_fields(&status), vec!["challenge.workout_id"]);

    let mut c = challenge(pb::ChallengeMetric::WorkoutSessions, 2.0, 2, 3600);
    c.workout_id = public.workout_id.clone();
    let c = create(&env, &trainer, c).await;
    assert_eq!(c.workout_id, public.workout_id);
    let member = env.member();
    join(&env, &member, &c.challenge_id).await.unwrap();
    let inside = start_of(&c) + chrono::Duration::seconds(5);
    log(&env, &member, 30, 0, inside).await;
    env.client()
        .log_progress(member.req(pb::LogProgressRequest {
            progress_log: Some(pb::ProgressLog {
                workout_id: public.workout_id.clone(),
                duration_seconds: 1800,
                completed_time: Some(ts(inside)),
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("log the workout");
    let view = get(&env, &member, &c.challenge_id).await;
    assert_eq!(view.my_score, 1.0);
    assert!(view.complete_time.is_none());
}
