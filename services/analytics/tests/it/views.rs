//! The four views over one known synthetic history that crosses hour, day and week
//! boundaries (UTC), produced through the real outbox path and consumed by the service.

use crate::common::*;
use chrono::{DateTime, Duration, Utc};
use tribe_analytics::time::Gran;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1::{self as ev, ClientEventType, event::Payload};
use tribe_proto::r#type::v1::Money;
use tribe_testkit::authed;

struct History {
    /// Monday 00:00 UTC of last week: the week, day and hour boundary everything straddles.
    w: DateTime<Utc>,
    alice: String,
    bob: String,
    coach: String,
    post: String,
    events: i64,
}

/// t1 = W-30m (Sunday, previous week), t2 = W+10m, t3 = W+50m (same hour as t2),
/// t4 = W+1d+2h (Tuesday).
async fn history(env: &Env) -> History {
    let w = Gran::Week.floor(Utc::now()) - Duration::weeks(1);
    let (t1, t2, t3, t4) = (
        w - Duration::minutes(30),
        w + Duration::minutes(10),
        w + Duration::minutes(50),
        w + Duration::hours(26),
    );
    let (alice, bob, coach, post) = (id(), id(), id(), id());
    let p = &env.producer;
    let mut n = 0;
    let mut emit =
        async |topic: &str, aggregate: &str, actor: &str, at: DateTime<Utc>, payload: Payload| {
            p.emit(topic, aggregate, actor, at, payload).await;
            n += 1;
        };
    let registered = |user_id: &str, is_trainer: bool| {
        Payload::UserRegistered(ev::UserRegistered {
            user_id: user_id.into(),
            handle: "h".into(),
            is_trainer,
            ..Default::default()
        })
    };
    emit(
        "tribe.user.v1",
        &coach,
        &coach,
        t1,
        registered(&coach, true),
    )
    .await;
    emit(
        "tribe.user.v1",
        &alice,
        &alice,
        t1,
        registered(&alice, false),
    )
    .await;
    emit("tribe.user.v1", &bob, &bob, t2, registered(&bob, false)).await;
    let created = ev::PostCreated {
        post_id: post.clone(),
        author_id: coach.clone(),
        ..Default::default()
    };
    emit(
        "tribe.content.v1",
        &post,
        &coach,
        t1,
        Payload::PostCreated(created),
    )
    .await;
    let follow = |a: &str, b: &str| {
        Payload::UserFollowed(ev::UserFollowed {
            follower_id: a.into(),
            followee_id: b.into(),
            ..Default::default()
        })
    };
    emit("tribe.user.v1", &alice, &alice, t1, follow(&alice, &coach)).await;
    emit("tribe.user.v1", &bob, &bob, t2, follow(&bob, &coach)).await;
    let unfollow = Payload::UserUnfollowed(ev::UserUnfollowed {
        follower_id: bob.clone(),
        followee_id: coach.clone(),
        ..Default::default()
    });
    emit("tribe.user.v1", &bob, &bob, t4, unfollow).await;
    let like = |user: &str| {
        Payload::PostLiked(ev::PostLiked {
            post_id: post.clone(),
            author_id: coach.clone(),
            user_id: user.into(),
            ..Default::default()
        })
    };
    emit("tribe.content.v1", &post, &alice, t2, like(&alice)).await;
    emit("tribe.content.v1", &post, &coach, t2, like(&coach)).await; // self-like: platform only
    let comment = ev::CommentCreated {
        comment_id: id(),
        post_id: post.clone(),
        post_author_id: coach.clone(),
        author_id: bob.clone(),
        ..Default::default()
    };
    emit(
        "tribe.content.v1",
        &post,
        &bob,
        t3,
        Payload::CommentCreated(comment),
    )
    .await;
    let tracked =
        |user: &str, kind: ClientEventType, target: &str, owner: &str, at: DateTime<Utc>| {
            Payload::ClientEventTracked(ev::ClientEventTracked {
                client_event_id: id(),
                user_id: user.into(),
                r#type: kind as i32,
                target_id: target.into(),
                target_owner_id: owner.into(),
                occur_time: Some(ts(at)),
                receive_time: Some(ts(at)),
            })
        };
    let track = "tribe.analytics.v1";
    emit(
        track,
        &alice,
        &alice,
        t2,
        tracked(&alice, ClientEventType::ViewPost, &post, &coach, t2),
    )
    .await;
    // Within 30 minutes of the previous view by the same viewer: not a new view.
    emit(
        track,
        &alice,
        &alice,
        t2,
        tracked(
            &alice,
            ClientEventType::ViewPost,
            &post,
            &coach,
            t2 + Duration::minutes(5),
        ),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t3,
        tracked(&bob, ClientEventType::ViewPost, &post, &coach, t3),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::ViewPost, &post, &coach, t4),
    )
    .await;
    // The author viewing their own post counts nowhere.
    emit(
        track,
        &coach,
        &coach,
        t4,
        tracked(&coach, ClientEventType::ViewPost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t4,
        tracked(&bob, ClientEventType::SharePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::SavePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t4,
        tracked(&alice, ClientEventType::UnsavePost, &post, &coach, t4),
    )
    .await;
    emit(
        track,
        &alice,
        &alice,
        t1,
        tracked(&alice, ClientEventType::ViewProfile, &coach, &coach, t1),
    )
    .await;
    emit(
        track,
        &bob,
        &bob,
        t2,
        tracked(&bob, ClientEventType::ViewProfile, &coach, &coach, t2),
    )
    .await;
    let message = |sender: &str| {
        Payload::MessageSent(ev::MessageSent {
            conversation_id: id(),
            message_id: id(),
            sender_id: sender.into(),
            ..Default::default()
        })
    };
    emit("tribe.messaging.v1", &alice, &alice, t1, message(&alice)).await;
    emit("tribe.messaging.v1", &alice, &alice, t3, message(&alice)).await;
    // Logged on Tuesday, completed on Sunday: bucketed by completion.
    let workout = ev::WorkoutCompleted {
        user_id: alice.clone(),
        duration_seconds: 1830,
        completed_time: Some(ts(t1)),
        ..Default::default()
    };
    emit(
        "tribe.fitness.v1",
        &alice,
        &alice,
        t4,
        Payload::WorkoutCompleted(workout),
    )
    .await;
    let money = |amount_minor: i64, code: &str| {
        Some(Money {
            amount_minor,
            currency_code: code.into(),
            ..Default::default()
        })
    };
    let paid = |amount| {
        Payload::PaymentSucceeded(ev::PaymentSucceeded {
            user_id: alice.clone(),
            transaction_id: id(),
            amount,
            ..Default::default()
        })
    };
    emit("tribe.payment.v1", &alice, "", t2, paid(money(999, "EUR"))).await;
    emit("tribe.payment.v1", &alice, "", t3, paid(money(500, "USD"))).await;
    let refund = ev::RefundIssued {
        user_id: alice.clone(),
        transaction_id: id(),
        amount: money(300, "EUR"),
        ..Default::default()
    };
    emit(
        "tribe.payment.v1",
        &alice,
        "",
        t4,
        Payload::RefundIssued(refund),
    )
    .await;
    // Known but not feeding any view: recorded raw only.
    let ticket = ev::TicketCreated {
        ticket_id: id(),
        requester_id: alice.clone(),
        ..Default::default()
    };
    emit(
        "tribe.support.v1",
        &alice,
        &alice,
        t4,
        Payload::TicketCreated(ticket),
    )
    .await;
    p.flush().await;
    wait_processed(&env.db.pool, n).await;
    History {
        w,
        alice,
        bob,
        coach,
        post,
        events: n,
    }
}

fn user_req(
    user: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    granularity: i32,
) -> pb::GetUserAnalyticsRequest {
    pb::GetUserAnalyticsRequest {
        user_id: user.into(),
        time_range: range(start, end),
        granularity,
    }
}

#[tokio::test]
async fn every_view_matches_a_known_history_across_boundaries() {
    let mut env = start().await;
    let h = history(&env).await;
    let (w, day) = (h.w, Duration::days(1));
    let alice_token = env.keys.access_token(&h.alice, &["user"]);
    let coach_token = env.keys.access_token(&h.coach, &["user", "trainer"]);
    let admin_token = env.keys.access_token(&id(), &["user", "admin"]);

    // --- user analytics, daily: Sunday | Monday | Tuesday
    let alice = env
        .client
        .get_user_analytics(authed(
            user_req(&h.alice, w - day, w + day * 2, DAY),
            &alice_token,
        ))
        .await
        .unwrap();
    let alice = alice.into_inner().user_analytics.unwrap();
    assert_eq!(alice.buckets.len(), 3);
    assert_eq!(alice.buckets[0].start_time, Some(ts(w - day)));
    let b: Vec<pb::UserActivityMetrics> =
        alice.buckets.iter().map(|b| b.metrics.unwrap()).collect();
    assert_eq!(
        (
            b[0].messages_sent,
            b[0].workouts_completed,
            b[0].workout_minutes
        ),
        (1, 1, 30)
    );
    assert_eq!(
        (
            b[1].messages_sent,
            b[1].likes_given,
            b[1].workouts_completed
        ),
        (1, 1, 0)
    );
    assert_eq!(b[2], pb::UserActivityMetrics::default());
    let totals = alice.totals.unwrap();
    assert_eq!(
        (
            totals.messages_sent,
            totals.likes_given,
            totals.workouts_completed,
            totals.workout_minutes
        ),
        (2, 1, 1, 30)
    );
    assert!(alice.watermark_time.is_some());

    let coach_daily = env
        .client
        .get_user_analytics(authed(
            user_req(&h.coach, w - day, w + day * 2, DAY),
            &coach_token,
        ))
        .await
        .unwrap();
    let c: Vec<pb::UserActivityMetrics> = coach_daily
        .into_inner()
        .user_analytics
        .unwrap()
        .buckets
        .iter()
        .map(|b| b.metrics.unwrap())
        .collect();
    assert_eq!(
        (
            c[0].posts_created,
            c[0].followers_gained,
            c[0].likes_received
        ),
        (1, 1, 0)
    );
    assert_eq!(
        (
            c[1].followers_gained,
            c[1].likes_received,
            c[1].comments_received,
            c[1].likes_given
        ),
        (1, 1, 1, 0)
    );
    assert_eq!((c[2].followers_lost, c[2].followers_gained), (1, 0));

    // Weekly: the range is widened to whole ISO weeks (previous week | this week).
    let weekly = env
        .client
        .get_user_analytics(authed(
            user_req(&h.coach, w - day, w + day * 2, WEEK),
            &coach_token,
        ))
        .await
        .unwrap();
    let weekly = weekly.into_inner().user_analytics.unwrap();
    assert_eq!(
        weekly.time_range,
        range(w - Duration::weeks(1), w + Duration::weeks(1))
    );
    let wk: Vec<pb::UserActivityMetrics> =
        weekly.buckets.iter().map(|b| b.metrics.unwrap()).collect();
    assert_eq!(wk.len(), 2);
    assert_eq!(
        (
            wk[0].posts_created,
            wk[0].followers_gained,
            wk[0].followers_lost
        ),
        (1, 1, 0)
    );
    assert_eq!(
        (
            wk[1].posts_created,
            wk[1].followers_gained,
            wk[1].followers_lost,
            wk[1].likes_received
        ),
        (0, 1, 1, 1)
    );

    // Hourly around midnight, with a start inside an hour (widened down to 23:00).
    let hourly = env
        .client
        .get_user_analytics(authed(
            user_req(
                &h.coach,
                w - Duration::minutes(45),
                w + Duration::hours(2),
                HOUR,
            ),
            &coach_token,
        ))
        .await
        .unwrap();
    let hourly = hourly.into_inner().user_analytics.unwrap();
    assert_eq!(
        hourly.time_range,
        range(w - Duration::hours(1), w + Duration::hours(2))
    );
    let hr: Vec<pb::UserActivityMetrics> =
        hourly.buckets.iter().map(|b| b.metrics.unwrap()).collect();
    assert_eq!(hr.len(), 3);
    assert_eq!((hr[0].posts_created, hr[0].followers_gained), (1, 1));
    assert_eq!(
        (
            hr[1].followers_gained,
            hr[1].likes_received,
            hr[1].comments_received
        ),
        (1, 1, 1)
    );
    assert_eq!(hr[2], pb::UserActivityMetrics::default());

    // --- content analytics of the coach's post, daily
    let request = pb::GetContentAnalyticsRequest {
        post_ids: vec![h.post.clone(), h.post.clone()],
        time_range: range(w - day, w + day * 2),
        granularity: DAY,
    };
    let content = env
        .client
        .get_content_analytics(authed(request, &coach_token))
        .await
        .unwrap()
        .into_inner()
        .content_analytics
        .unwrap();
    assert_eq!(content.posts.len(), 1, "duplicates collapse");
    let post = &content.posts[0];
    let pm: Vec<pb::PostMetrics> = post.buckets.iter().map(|b| b.metrics.unwrap()).collect();
    assert_eq!(pm[0], pb::PostMetrics::default());
    assert_eq!(
        pm[1],
        pb::PostMetrics {
            views: 2,
            unique_viewers: 2,
            likes: 1,
            comments: 1,
            shares: 0,
            saves: 0,
            engagements: 2,
            engagement_rate_bps: 10_000
        }
    );
    assert_eq!(
        pm[2],
        pb::PostMetrics {
            views: 1,
            unique_viewers: 1,
            likes: 0,
            comments: 0,
            shares: 1,
            saves: 1,
            engagements: 2,
            engagement_rate_bps: 20_000
        }
    );
    // unique viewers over the range are exact (alice and bob), not 2 + 1.
    assert_eq!(
        post.totals.unwrap(),
        pb::PostMetrics {
            views: 3,
            unique_viewers: 2,
            likes: 1,
            comments: 1,
            shares: 1,
            saves: 1,
            engagements: 4,
            engagement_rate_bps: 13_333
        }
    );

    // --- creator insights, daily
    let request = pb::GetCreatorInsightsRequest {
        trainer_id: h.coach.clone(),
        time_range: range(w - day, w + day * 2),
        granularity: DAY,
        top_posts_limit: 0,
    };
    let insights = env
        .client
        .get_creator_insights(authed(request, &coach_token))
        .await
        .unwrap()
        .into_inner()
        .creator_insights
        .unwrap();
    let cm: Vec<pb::CreatorMetrics> = insights
        .buckets
        .iter()
        .map(|b| b.metrics.clone().unwrap())
        .collect();
    assert_eq!(
        (
            cm[0].profile_views,
            cm[0].unique_profile_viewers,
            cm[0].new_followers,
            cm[0].post_views
        ),
        (1, 1, 1, 0)
    );
    assert_eq!(
        (
            cm[1].profile_views,
            cm[1].new_followers,
            cm[1].post_views,
            cm[1].engagements,
            cm[1].engagement_rate_bps
        ),
        (1, 1, 2, 2, 10_000)
    );
    assert_eq!(
        (cm[2].lost_followers, cm[2].post_views, cm[2].engagements),
        (1, 1, 2)
    );
    let totals = insights.totals.unwrap();
    assert_eq!(
        (
            totals.profile_views,
            totals.unique_profile_viewers,
            totals.new_followers,
            totals.lost_followers
        ),
        (2, 2, 2, 1)
    );
    assert_eq!(
        (
            totals.post_views,
            totals.engagements,
            totals.engagement_rate_bps
        ),
        (3, 4, 13_333)
    );
    assert!(totals.subscription_revenue.is_empty());
    assert!(
        !insights.revenue_available,
        "payment events name no creator"
    );
    assert_eq!(insights.top_posts.len(), 1);
    assert_eq!(insights.top_posts[0].post_id, h.post);
    assert_eq!(
        insights.top_posts[0].create_time,
        Some(ts(w - Duration::minutes(30)))
    );
    assert_eq!(insights.top_posts[0].metrics, post.totals);

    // --- platform metrics, daily, as admin
    let request = pb::GetPlatformMetricsRequest {
        time_range: range(w - day, w + day * 2),
        granularity: DAY,
    };
    let platform = env
        .client
        .get_platform_metrics(authed(request, &admin_token))
        .await
        .unwrap()
        .into_inner()
        .platform_metrics
        .unwrap();
    let pl: Vec<pb::PlatformMetricValues> = platform
        .buckets
        .iter()
        .map(|b| b.metrics.clone().unwrap())
        .collect();
    // Sunday: coach (post) and alice (follow, message, workout, profile view).
    assert_eq!(
        (
            pl[0].active_users,
            pl[0].new_users,
            pl[0].posts_created,
            pl[0].messages_sent,
            pl[0].workouts_completed
        ),
        (2, 2, 1, 1, 1)
    );
    // Monday: alice, coach (self-like) and bob; likes 2 + comment 1.
    assert_eq!(
        (
            pl[1].active_users,
            pl[1].new_users,
            pl[1].comments_created,
            pl[1].messages_sent,
            pl[1].engagements
        ),
        (3, 1, 1, 1, 3)
    );
    let eur = |v: i64| Money {
        amount_minor: v,
        currency_code: "EUR".into(),
        ..Default::default()
    };
    let usd = |v: i64| Money {
        amount_minor: v,
        currency_code: "USD".into(),
        ..Default::default()
    };
    assert_eq!(pl[1].revenue, vec![eur(999), usd(500)]);
    // Tuesday: share + save; alice, bob and the coach viewing their own post.
    assert_eq!((pl[2].active_users, pl[2].engagements), (3, 2));
    assert_eq!(pl[2].revenue, vec![eur(-300)]);
    let totals = platform.totals.unwrap();
    assert_eq!(
        totals.active_users, 3,
        "exact distinct over the range, not 2 + 3 + 3"
    );
    assert_eq!(
        (
            totals.new_users,
            totals.posts_created,
            totals.comments_created,
            totals.messages_sent
        ),
        (3, 1, 1, 2)
    );
    assert_eq!((totals.workouts_completed, totals.engagements), (1, 5));
    assert_eq!(totals.revenue, vec![eur(699), usd(500)]);

    // Weekly platform: active users are distinct per week and over both weeks.
    let request = pb::GetPlatformMetricsRequest {
        time_range: range(w - day, w + day * 2),
        granularity: WEEK,
    };
    let weekly = env
        .client
        .get_platform_metrics(authed(request, &admin_token))
        .await
        .unwrap()
        .into_inner()
        .platform_metrics
        .unwrap();
    let active: Vec<i64> = weekly
        .buckets
        .iter()
        .map(|b| b.metrics.as_ref().unwrap().active_users)
        .collect();
    assert_eq!(active, vec![2, 3]);
    assert_eq!(weekly.totals.unwrap().active_users, 3);

    // Hourly content: the 23:00 hour is empty, the 00:00 hour holds both viewers.
    let request = pb::GetContentAnalyticsRequest {
        post_ids: vec![h.post.clone()],
        time_range: range(w - Duration::hours(1), w + Duration::hours(2)),
        granularity: HOUR,
    };
    let hourly = env
        .client
        .get_content_analytics(authed(request, &admin_token))
        .await
        .unwrap()
        .into_inner()
        .content_analytics
        .unwrap();
    let ph: Vec<pb::PostMetrics> = hourly.posts[0]
        .buckets
        .iter()
        .map(|b| b.metrics.unwrap())
        .collect();
    assert_eq!(ph[0], pb::PostMetrics::default());
    assert_eq!(
        (
            ph[1].views,
            ph[1].unique_viewers,
            ph[1].likes,
            ph[1].comments
        ),
        (2, 2, 1, 1)
    );
    assert_eq!(ph[2], pb::PostMetrics::default());

    // Weekly creator insights, read by an admin.
    let request = pb::GetCreatorInsightsRequest {
        trainer_id: h.coach.clone(),
        time_range: range(w - day, w + day * 2),
        granularity: WEEK,
        top_posts_limit: 5,
    };
    let weekly = env
        .client
        .get_creator_insights(authed(request, &admin_token))
        .await
        .unwrap()
        .into_inner()
        .creator_insights
        .unwrap();
    let cw: Vec<pb::CreatorMetrics> = weekly
        .buckets
        .iter()
        .map(|b| b.metrics.clone().unwrap())
        .collect();
    assert_eq!(
        (
            cw[0].profile_views,
            cw[0].new_followers,
            cw[0].post_views,
            cw[0].engagements
        ),
        (1, 1, 0, 0)
    );
    assert_eq!(
        (
            cw[1].profile_views,
            cw[1].unique_profile_viewers,
            cw[1].new_followers,
            cw[1].lost_followers
        ),
        (1, 1, 1, 1)
    );
    assert_eq!((cw[1].post_views, cw[1].engagements), (3, 4));

    // Every event is in the raw table, once.
    let raw: i64 = sqlx::query_scalar("SELECT count(*) FROM raw_events")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(raw, h.events);
    let _ = h.bob;
}

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
