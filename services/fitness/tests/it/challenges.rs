//! Tests of challenges: creation rules, joining and leaving, leaderboards with ties and
//! late joiners, completion awarded once under concurrent logs, and the finaliser.

mod scores;

use chrono::{DateTime, Utc};
use tonic::Code;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;

use crate::common::{Env, Person, assert_status, request_id, start, violated_fields};
use crate::fixtures::{events, timestamp as ts};

/// A challenge running from `start_in` to `end_in` from now.
fn challenge(metric: pb::ChallengeMetric, goal: f64, start_in: i64, end_in: i64) -> pb::Challenge {
    let now = Utc::now();
    pb::Challenge {
        title: "Spring push".into(),
        description: "Move every day".into(),
        metric: metric as i32,
        goal,
        start_time: Some(ts(now + chrono::Duration::seconds(start_in))),
        end_time: Some(ts(now + chrono::Duration::seconds(end_in))),
        category_ids: vec!["cardio".into()],
        ..Default::default()
    }
}

async fn try_create(
    env: &Env,
    who: &Person,
    c: pb::Challenge,
) -> Result<pb::Challenge, tonic::Status> {
    env.client()
        .create_challenge(who.req(pb::CreateChallengeRequest {
            challenge: Some(c),
            request_id: String::new(),
        }))
        .await
        .map(|r| r.into_inner().challenge.expect("challenge"))
}

async fn create(env: &Env, who: &Person, c: pb::Challenge) -> pb::Challenge {
    try_create(env, who, c).await.expect("create challenge")
}

async fn join(env: &Env, who: &Person, id: &str) -> Result<pb::Challenge, tonic::Status> {
    env.client()
        .join_challenge(who.req(pb::JoinChallengeRequest {
            challenge_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().challenge.expect("challenge"))
}

async fn get(env: &Env, who: &Person, id: &str) -> pb::Challenge {
    env.client()
        .get_challenge(who.req(pb::GetChallengeRequest {
            challenge_id: id.into(),
        }))
        .await
        .expect("get challenge")
        .into_inner()
        .challenge
        .expect("challenge")
}

/// Logs a free-form session of `minutes` and `calories` completed at `at`.
async fn log(env: &Env, who: &Person, minutes: i32, calories: i32, at: DateTime<Utc>) {
    env.client()
        .log_progress(who.req(pb::LogProgressRequest {
            progress_log: Some(pb::ProgressLog {
                title: "Session".into(),
                duration_seconds: minutes * 60,
                calories,
                completed_time: Some(ts(at)),
                ..Default::default()
            }),
            request_id: request_id(),
        }))
        .await
        .expect("log progress");
}

async fn leaderboard(
    env: &Env,
    who: &Person,
    id: &str,
    page_size: i32,
    page_token: &str,
) -> Result<pb::GetChallengeLeaderboardResponse, tonic::Status> {
    env.client()
        .get_challenge_leaderboard(who.req(pb::GetChallengeLeaderboardRequest {
            challenge_id: id.into(),
            page_size,
            page_token: page_token.into(),
        }))
        .await
        .map(|r| r.into_inner())
}

fn start_of(c: &pb::Challenge) -> DateTime<Utc> {
    let t = c.start_time.expect("start");
    DateTime::from_timestamp(t.seconds, t.nanos as u32).expect("time")
}

#[tokio::test]
async fn create_collects_every_violation_and_needs_a_trainer() {
    let env = start().await;
    let trainer = env.trainer();
    let now = Utc::now();
    let bad = pb::Challenge {
        title: " ".into(),
        description: "x".repeat(5001),
        difficulty: 9,
        category_ids: vec![
            "cardio".into(),
            "cardio".into(),
            "no-such-category".into(),
            "yoga".into(),
            "hiit".into(),
            "core".into(),
        ],
        thumbnail_url: "http://example.com/a.png".into(),
        metric: pb::ChallengeMetric::Unspecified as i32,
        goal: 0.0,
        start_time: Some(ts(now - chrono::Duration::hours(1))),
        end_time: Some(ts(now - chrono::Duration::hours(2))),
        workout_id: uuid::Uuid::now_v7().to_string(),
        ..Default::default()
    };
    let status = try_create(&env, &trainer, bad).await.unwrap_err();
    let fields = violated_fields(&status);
    for field in [
        "challenge.title",
        "challenge.description",
        "challenge.difficulty",
        "challenge.category_ids",
        "challenge.category_ids[1]",
        "challenge.category_ids[2]",
        "challenge.thumbnail_url",
        "challenge.metric",
        "challenge.goal",
        "challenge.start_time",
        "challenge.end_time",
        "challenge.workout_id",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }

    // Too long, too big a goal, and a session challenge without its workout.
    let mut long = challenge(pb::ChallengeMetric::WorkoutSessions, 1e9 + 1.0, 60, 60);
    long.end_time = Some(ts(now + chrono::Duration::days(368)));
    let status = try_create(&env, &trainer, long).await.unwrap_err();
    let fields = violated_fields(&status);
    for field in [
        "challenge.end_time",
        "challenge.goal",
        "challenge.workout_id",
    ] {
        assert!(fields.contains(&field.to_string()), "{field} in {fields:?}");
    }
    // An unknown workout.
    let mut unknown = challenge(pb::ChallengeMetric::WorkoutSessions, 5.0, 60, 3600);
    unknown.workout_id = uuid::Uuid::now_v7().to_string();
    let status = try_create(&env, &trainer, unknown).await.unwrap_err();
    assert_eq!(violated_fields(&status), vec!["challenge.workout_id"]);

    let member = env.member();
    let refused = challenge(pb::ChallengeMetric::Minutes, 100.0, 60, 3600);
    let status = try_create(&env, &member, refused).await.unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);

    // Nothing was created.
    let listed = env
        .client()
        .list_challenges(trainer.req(pb::ListChallengesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.challenges.is_empty());
}

#[tokio::test]
async fn create_replays_a_request_id() {
    let env = start().await;
    let trainer = env.trainer();
    let key = request_id();
    let c = challenge(pb::ChallengeMetric::Minutes, 300.0, 60, 3600);
    let call = |c: pb::Challenge| {
        let mut client = env.client();
        let req = trainer.req(pb::CreateChallengeRequest {
            challenge: Some(c),
            request_id: key.clone(),
        });
        async move { client.create_challenge(req).await }
    };
    let first = call(c.clone())
        .await
        .unwrap()
        .into_inner()
        .challenge
        .unwrap();
    let again = call(c.clone())
        .await
        .unwrap()
        .into_inner()
        .challenge
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(first.state, pb::ChallengeState::Upcoming as i32);
    assert_eq!(first.metric, pb::ChallengeMetric::Minutes as i32);
    assert_eq!(first.creator.as_ref().unwrap().user_id, trainer.id_str());
    let other = pb::Challenge { goal: 500.0, ..c };
    let status = call(other).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    let listed = env
        .client()
        .list_challenges(trainer.req(pb::ListChallengesRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.challenges.len(), 1);
}

#[tokio::test]
async fn join_is_idempotent_and_publishes_once() {
    let env = start().await;
    let trainer = env.trainer();
    let member = env.member();
    let c = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::Minutes, 300.0, 60, 3600),
    )
    .await;
    let first = join(&env, &member, &c.challenge_id).await.unwrap();
    assert!(first.joined);
    assert_eq!(first.participant_count, 1);
    let again = join(&env, &member, &c.challenge_id).await.unwrap();
    assert_eq!(again.join_time, first.join_time);
    assert_eq!(again.participant_count, 1);
    assert!(get(&env, &member, &c.challenge_id).await.joined);
    assert!(!get(&env, &trainer, &c.challenge_id).await.joined);

    let left = env
        .client()
        .leave_challenge(member.req(pb::LeaveChallengeRequest {
            challenge_id: c.challenge_id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .challenge
        .unwrap();
    assert!(!left.joined);
    assert_eq!(left.participant_count, 0);
    assert!(left.join_time.is_none());
    // Leaving again succeeds; rejoining publishes nothing new.
    env.client()
        .leave_challenge(member.req(pb::LeaveChallengeRequest {
            challenge_id: c.challenge_id.clone(),
        }))
        .await
        .unwrap();
    join(&env, &member, &c.challenge_id).await.unwrap();

    let joined: Vec<_> = events(&env, 1)
        .await
        .into_iter()
        .filter_map(|e| match e.payload {
            Some(Payload::ChallengeJoined(j)) => Some(j),
            _ => None,
        })
        .collect();
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!(joined[0].user_id, member.id_str());
    assert_eq!(joined[0].challenge_creator_id, trainer.id_str());

    let status = join(&env, &member, &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, None);
    let status = join(&env, &member, "nope").await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
}

#[tokio::test]
async fn premium_challenges_need_premium_to_join() {
    let env = start().await;
    let trainer = env.trainer();
    let mut c = challenge(pb::ChallengeMetric::Calories, 5000.0, 60, 3600);
    c.is_premium = true;
    let c = create(&env, &trainer, c).await;
    assert!(c.is_premium);
    let status = join(&env, &env.member(), &c.challenge_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    assert_eq!(
        get(&env, &trainer, &c.challenge_id).await.participant_count,
        0
    );
    let premium = env.premium_member();
    assert!(join(&env, &premium, &c.challenge_id).await.unwrap().joined);
}

#[tokio::test]
async fn list_filters_by_state_membership_and_category() {
    let env = start().await;
    let trainer = env.trainer();
    let member = env.member();
    let soon = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::Minutes, 10.0, 60, 3600),
    )
    .await;
    let later = create(
        &env,
        &trainer,
        challenge(pb::ChallengeMetric::Minutes, 10.0, 600, 3600),
    )
    .await;
    let mut yoga = challenge(pb::ChallengeMetric::Minutes, 10.0, 300, 3600);
    yoga.category_ids = vec!["yoga".into()];
    let yoga = create(&env, &trainer, yoga).await;
    join(&env, &member, &later.challenge_id).await.unwrap();

    let list = |req: pb::ListChallengesRequest| {
        let mut client = env.client();
        let req = member.req(req);
        async move { client.list_challenges(req).await }
    };
    let ids = |r: pb::ListChallengesResponse| {
        r.challenges
            .into_iter()
            .map(|c| c.challenge_id)
            .collect::<Vec<_>>()
    };
    let upcoming = list(pb::ListChallengesRequest {
        state: pb::ChallengeState::Upcoming as i32,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        ids(upcoming),
        vec![
            soon.challenge_id.clone(),
            yoga.challenge_id.clone(),
            later.challenge_id.clone()
        ]
    );
    let active = list(pb::ListChallengesRequest {
        state: pb::ChallengeState::Active as i32,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert!(active.challenges.is_empty());
    let mine = list(pb::ListChallengesRequest {
        joined_only: true,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(mine.challenges.len(), 1);
    assert!(mine.challenges[0].joined);
    assert_eq!(mine.challenges[0].challenge_id, later.challenge_id);
    let by_category = list(pb::ListChallengesRequest {
        category_id: "yoga".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(by_category), vec![yoga.challenge_id.clone()]);

    // Unfiltered: newest start first, paged.
    let first = list(pb::ListChallengesRequest {
        page_size: 2,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        first
            .challenges
            .iter()
            .map(|c| &c.challenge_id)
            .collect::<Vec<_>>(),
        vec![&later.challenge_id, &yoga.challenge_id]
    );
    let second = list(pb::ListChallengesRequest {
        page_size: 2,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(second.clone()), vec![soon.challenge_id.clone()]);
    assert!(second.next_page_token.is_empty());
    // A token for other filters, a forged one, and a negative size.
    let status = list(pb::ListChallengesRequest {
        page_size: 2,
        joined_only: true,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = list(pb::ListChallengesRequest {
        page_token: "Zm9yZ2Vk".into(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = list(pb::ListChallengesRequest {
        page_size: -1,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_size"]);
}
