//! The fan-out consumer's choices, end to end through Kafka: an author above the threshold
//! is merged into followers' feeds at read time (and a lost timeline is pulled from the
//! followees), the local graph replica stands in while the user service is unreachable,
//! and a visibility change to PRIVATE and back takes a post out of followers' feeds and
//! pushes it in again.

use std::time::Duration;

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn a_big_author_is_merged_at_read_time_and_a_returning_user_sees_followees_posts() {
    // Threshold 1: an author with two followers is not pushed.
    let env = start_with(|c| c.fanout_threshold = 1).await;
    let star = env.register(&unique("star"), true).await;
    let fan = env.register(&unique("fan"), false).await;
    let other = env.register(&unique("other"), false).await;
    let before = env
        .create(&star, post("posted before anyone followed"))
        .await;
    env.follow(&fan, &star).await;
    env.follow(&other, &star).await;

    // The follow backfill (or the pull fallback for an empty timeline) shows the older post.
    env.wait_feed(&fan, &before.post_id, true).await;
    env.wait_feed(&other, &before.post_id, true).await;
    // A lost home timeline (expired, rebuilt store) still shows what followees posted.
    let pool = env.db.pool.clone();
    let other_id = other.id.clone();
    wait_until(
        Duration::from_secs(30),
        "the backfill reached the second follower's stored timeline",
        || {
            let (pool, other_id) = (pool.clone(), other_id.clone());
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM home_timeline WHERE owner_id = $1::uuid)",
                )
                .bind(&other_id)
                .fetch_one(&pool)
                .await
                .unwrap()
            }
        },
    )
    .await;
    sqlx::query("DELETE FROM home_timeline WHERE owner_id = $1::uuid")
        .bind(&other.id)
        .execute(&env.db.pool)
        .await
        .unwrap();
    assert!(
        env.in_feed(&other, &before.post_id).await,
        "pulled from the followees when the timeline is empty"
    );

    let fresh = env.create(&star, post("new post from a big account")).await;
    let pool = env.db.pool.clone();
    let star_id = star.id.clone();
    wait_until(
        Duration::from_secs(30),
        "fan-out marks the author for read-time merge",
        || {
            let (pool, star_id) = (pool.clone(), star_id.clone());
            async move {
                sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM pull_authors WHERE author_id = $1::uuid)",
                )
                .bind(&star_id)
                .fetch_one(&pool)
                .await
                .unwrap()
            }
        },
    )
    .await;
    let pushed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM home_timeline WHERE post_id = $1::uuid AND owner_id <> $2::uuid",
    )
    .bind(&fresh.post_id)
    .bind(&star.id)
    .fetch_one(&env.db.pool)
    .await
    .unwrap();
    assert_eq!(pushed, 0, "nothing was pushed to followers");
    // The follower (whose timeline holds the backfilled post, so no fallback applies)
    // still sees the new post, merged in at read time.
    assert!(
        env.in_feed(&fan, &fresh.post_id).await,
        "merged into the first follower's feed"
    );
    assert!(
        env.in_feed(&other, &fresh.post_id).await,
        "merged into the second follower's feed"
    );
    let stranger = env.register(&unique("stranger"), false).await;
    assert!(
        !env.in_feed(&stranger, &fresh.post_id).await,
        "non-followers do not get it merged in"
    );
}

#[tokio::test]
async fn fan_out_falls_back_to_the_graph_replica_while_the_user_service_is_unreachable() {
    // The content service cannot reach the user service; follows still arrive as events.
    let env = start_with(|c| c.user_url = format!("http://{}", tribe_testkit::free_addr())).await;
    let a = env.register(&unique("a"), false).await;
    let b = env.register(&unique("b"), false).await;
    env.follow(&a, &b).await;
    let pool = env.db.pool.clone();
    let (a_id, b_id) = (a.id.clone(), b.id.clone());
    wait_until(Duration::from_secs(30), "the follow reached the replica", || {
        let (pool, a_id, b_id) = (pool.clone(), a_id.clone(), b_id.clone());
        async move {
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM follows WHERE follower_id = $1::uuid AND followee_id = $2::uuid)")
                .bind(&a_id)
                .bind(&b_id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    })
    .await;
    let p = env
        .create(&b, post("posted while the user service is away"))
        .await;
    let (pool, a_id, pid) = (env.db.pool.clone(), a.id.clone(), p.post_id.clone());
    wait_until(Duration::from_secs(30), "the post was pushed into A's stored home timeline", || {
        let (pool, a_id, pid) = (pool.clone(), a_id.clone(), pid.clone());
        async move {
            sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM home_timeline WHERE owner_id = $1::uuid AND post_id = $2::uuid)")
                .bind(&a_id)
                .bind(&pid)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    })
    .await;
    assert!(env.in_feed(&a, &p.post_id).await);
    let parked: i64 = sqlx::query_scalar("SELECT count(*) FROM processed_events")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert!(
        parked >= 3,
        "registrations, the follow and the post were applied, not dead-lettered"
    );
}

#[tokio::test]
async fn making_a_post_private_takes_it_out_of_followers_feeds_and_public_again_brings_it_back() {
    let env = start().await;
    let a = env.register(&unique("a"), false).await;
    let b = env.register(&unique("b"), false).await;
    env.follow(&a, &b).await;
    let p = env.create(&b, post("soon private")).await;
    let mut client = env.client.clone();
    env.wait_feed(&a, &p.post_id, true).await;

    let set = |visibility: pb::PostVisibility| pb::UpdatePostRequest {
        post: Some(pb::Post {
            post_id: p.post_id.clone(),
            visibility: visibility as i32,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["visibility".into()],
        }),
    };
    let private = client
        .update_post(as_user(&b, set(pb::PostVisibility::Private)))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(private.visibility, pb::PostVisibility::Private as i32);
    assert!(
        !private.edited,
        "a visibility change is not an edit of the content"
    );
    assert!(
        !env.in_feed(&a, &p.post_id).await,
        "the read rules apply at once"
    );
    let status = env.get_post(&a, &p.post_id).await.unwrap_err();
    assert_status(&status, Code::NotFound, None);
    assert!(env.in_feed(&b, &p.post_id).await, "the author still has it");
    let (pool, a_id, pid) = (env.db.pool.clone(), a.id.clone(), p.post_id.clone());
    let stored = move |present: bool| {
        let (pool, a_id, pid) = (pool.clone(), a_id.clone(), pid.clone());
        async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM home_timeline WHERE owner_id = $1::uuid AND post_id = $2::uuid")
                .bind(&a_id)
                .bind(&pid)
                .fetch_one(&pool)
                .await
                .unwrap();
            (n == 1) == present
        }
    };
    wait_until(
        Duration::from_secs(30),
        "the private post leaves A's stored timeline",
        || stored(false),
    )
    .await;

    client
        .update_post(as_user(&b, set(pb::PostVisibility::Public)))
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the public post is pushed to A again",
        || stored(true),
    )
    .await;
    assert!(env.in_feed(&a, &p.post_id).await);
}
