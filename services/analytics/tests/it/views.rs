//! The user, content and creator views beyond the known history: request validation
//! (field violations, range limits, capping) and lost followers on a block. Their
//! numbers over the known history are checked in `all_views.rs`.

use crate::common::*;
use chrono::{Duration, Utc};
use tribe_analytics::time::Gran;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1::{self as ev, event::Payload};
use tribe_testkit::authed;

#[tokio::test]
async fn series_requests_are_validated_with_field_violations() {
    let mut env = start().await;
    let me = id();
    let token = env.keys.access_token(&me, &["user"]);
    let now = Utc::now();
    let bad = |user_id: &str, time_range, granularity| pb::GetUserAnalyticsRequest {
        user_id: user_id.into(),
        time_range,
        granularity,
    };

    let err = env
        .client
        .get_user_analytics(authed(bad("", None, 0), &token))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&err),
        vec!["granularity", "time_range", "user_id"]
    );
    let err = env
        .client
        .get_user_analytics(authed(
            bad(&me, range(now, now - Duration::hours(1)), DAY),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["time_range.end_time"]);
    let future = now + Duration::days(2);
    let err = env
        .client
        .get_user_analytics(authed(
            bad(&me, range(future, future + Duration::days(1)), DAY),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["time_range.start_time"]);
    let err = env
        .client
        .get_user_analytics(authed(
            bad(&me, range(now - Duration::days(15), now), HOUR),
            &token,
        ))
        .await
        .unwrap_err();
    assert_status(&err, tonic::Code::InvalidArgument, Some("RANGE_TOO_LONG"));
    // The same span is fine by the day, and a range ending in the future is capped.
    let ok = env
        .client
        .get_user_analytics(authed(
            bad(
                &me,
                range(now - Duration::days(15), now + Duration::days(30)),
                DAY,
            ),
            &token,
        ))
        .await
        .unwrap();
    let ok = ok.into_inner().user_analytics.unwrap();
    assert_eq!(ok.buckets.len(), 16);
    assert_eq!(
        ok.time_range.unwrap().end_time,
        Some(ts(Gran::Day.floor(now) + Duration::days(1)))
    );

    let err = env
        .client
        .get_content_analytics(authed(
            pb::GetContentAnalyticsRequest {
                post_ids: vec!["not-an-id".into()],
                time_range: range(now - Duration::days(1), now),
                granularity: DAY,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["post_ids[0]"]);
    let many = (0..51).map(|_| id()).collect();
    let err = env
        .client
        .get_content_analytics(authed(
            pb::GetContentAnalyticsRequest {
                post_ids: many,
                time_range: range(now - Duration::days(1), now),
                granularity: DAY,
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["post_ids"]);
    let trainer = env.keys.access_token(&me, &["user", "trainer"]);
    let err = env
        .client
        .get_creator_insights(authed(
            pb::GetCreatorInsightsRequest {
                trainer_id: me.clone(),
                time_range: range(now - Duration::days(1), now),
                granularity: DAY,
                top_posts_limit: 51,
            },
            &trainer,
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&err), vec!["top_posts_limit"]);
}

#[tokio::test]
async fn a_block_counts_lost_followers_only_for_follows_that_existed() {
    let mut env = start().await;
    let (ana, bo, cy) = (id(), id(), id());
    let now = Utc::now();
    let p = &env.producer;
    let follow = |a: &str, b: &str| {
        Payload::UserFollowed(ev::UserFollowed {
            follower_id: a.into(),
            followee_id: b.into(),
            ..Default::default()
        })
    };
    let block = |a: &str, b: &str| {
        Payload::UserBlocked(ev::UserBlocked {
            blocker_id: a.into(),
            blocked_id: b.into(),
            ..Default::default()
        })
    };
    p.emit("tribe.user.v1", &ana, &ana, now, follow(&ana, &bo))
        .await;
    p.emit("tribe.user.v1", &bo, &bo, now, follow(&bo, &ana))
        .await;
    // Ana blocks Bo: both follows go. Cy blocks Ana without any follow between them.
    p.emit("tribe.user.v1", &ana, &ana, now, block(&ana, &bo))
        .await;
    p.emit("tribe.user.v1", &cy, &cy, now, block(&cy, &ana))
        .await;
    wait_processed(&env.db.pool, 4).await;
    for user in [&ana, &bo] {
        let token = env.keys.access_token(user, &["user"]);
        let request = user_req(user, now - Duration::hours(1), now, DAY);
        let totals = env
            .client
            .get_user_analytics(authed(request, &token))
            .await
            .unwrap()
            .into_inner()
            .user_analytics
            .unwrap()
            .totals
            .unwrap();
        assert_eq!(
            (totals.followers_gained, totals.followers_lost),
            (1, 1),
            "{user}"
        );
    }
}

#[tokio::test]
async fn a_trainers_insights_count_enrolments_completions_challenges_and_sessions() {
    let mut env = start().await;
    let (coach, ana, bo) = (id(), id(), id());
    let now = Utc::now();
    let p = &env.producer;
    let fitness = "tribe.fitness.v1";
    let (program, challenge, workout) = (id(), id(), id());
    let enrolled = |user: &str| {
        Payload::ProgramEnrolled(ev::ProgramEnrolled {
            enrollment_id: id(),
            user_id: user.into(),
            program_id: program.clone(),
            program_creator_id: coach.clone(),
            is_premium: false,
        })
    };
    let session = |user: &str| {
        Payload::WorkoutCompleted(ev::WorkoutCompleted {
            user_id: user.into(),
            progress_log_id: id(),
            workout_id: workout.clone(),
            workout_creator_id: coach.clone(),
            duration_seconds: 600,
            ..Default::default()
        })
    };
    p.emit(fitness, &program, &ana, now, enrolled(&ana)).await;
    p.emit(fitness, &program, &bo, now, enrolled(&bo)).await;
    // The coach trying their own program and workout counts for nobody's insights.
    p.emit(fitness, &program, &coach, now, enrolled(&coach))
        .await;
    p.emit(fitness, &coach, &coach, now, session(&coach)).await;
    p.emit(fitness, &ana, &ana, now, session(&ana)).await;
    let completed = Payload::ProgramCompleted(ev::ProgramCompleted {
        enrollment_id: id(),
        user_id: ana.clone(),
        program_id: program.clone(),
        program_creator_id: coach.clone(),
        ..Default::default()
    });
    p.emit(fitness, &program, &ana, now, completed).await;
    let joined = Payload::ChallengeJoined(ev::ChallengeJoined {
        challenge_id: challenge.clone(),
        user_id: bo.clone(),
        challenge_creator_id: coach.clone(),
    });
    p.emit(fitness, &challenge, &bo, now, joined).await;
    let reached = Payload::ChallengeCompleted(ev::ChallengeCompleted {
        challenge_id: challenge.clone(),
        user_id: bo.clone(),
        challenge_creator_id: coach.clone(),
        score: 10.0,
        ..Default::default()
    });
    p.emit(fitness, &challenge, &bo, now, reached).await;
    wait_processed(&env.db.pool, 8).await;

    let token = env.keys.access_token(&coach, &["user", "trainer"]);
    let request = pb::GetCreatorInsightsRequest {
        trainer_id: coach.clone(),
        time_range: range(now - Duration::hours(1), now),
        granularity: DAY,
        top_posts_limit: 0,
    };
    let totals = env
        .client
        .get_creator_insights(authed(request, &token))
        .await
        .unwrap()
        .into_inner()
        .creator_insights
        .unwrap()
        .totals
        .unwrap();
    assert_eq!(
        (
            totals.program_enrollments,
            totals.program_completions,
            totals.challenge_joins,
            totals.challenge_completions,
            totals.workout_sessions
        ),
        (2, 1, 1, 1, 1)
    );
}
