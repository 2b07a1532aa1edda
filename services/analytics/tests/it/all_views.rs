//! The four views (user, content, creator and platform) over the known history of
//! `history.rs`, read by the day, the week or the hour across its boundaries, and every
//! event of it found once in the raw table. One test: the history is built once.

use crate::common::*;
use crate::history::history;
use chrono::Duration;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::r#type::v1::Money;
use tribe_testkit::authed;

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
