//! The Redis caches of post bodies and author summaries against real Redis and Postgres:
//! reads fill the cache and are served from it (shown by changing a row behind the
//! service's back), changes through the service invalidate at once, a cached body never
//! lets a deleted, hidden or no longer visible post through, reads survive an unreachable
//! Redis, and user events refresh author summaries.

use std::time::Duration;

use crate::common::*;
use prost::Message;
use tonic::Code;
use tribe_proto::content::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;
use tribe_proto::user::v1 as upb;

async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(tribe_testkit::redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn post_key(env: &Env, id: &str) -> String {
    format!("{}post:v1:{id}", env.config.redis.prefix)
}

fn user_key(env: &Env, id: &str) -> String {
    format!("{}user:v1:{id}", env.config.redis.prefix)
}

async fn cached(key: &str) -> Option<Vec<u8>> {
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut redis().await)
        .await
        .unwrap()
}

async fn put(key: &str, value: &[u8]) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async::<()>(&mut redis().await)
        .await
        .unwrap();
}

/// Changes a post's text in Postgres only, as an operator's SQL would.
async fn rewrite_behind_the_service(env: &Env, id: &str, text: &str) {
    let id = uuid::Uuid::parse_str(id).unwrap();
    let changed = sqlx::query("UPDATE posts SET text = $2 WHERE id = $1")
        .bind(id)
        .bind(text)
        .execute(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);
}

fn set_text(id: &str, text: &str) -> pb::UpdatePostRequest {
    pb::UpdatePostRequest {
        post: Some(pb::Post {
            post_id: id.into(),
            text: text.into(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["text".into()],
        }),
    }
}

#[tokio::test]
async fn a_read_fills_the_cache_and_later_reads_take_the_body_from_it() {
    let env = start().await;
    let author = env.register(&unique("author"), false).await;
    let reader = env.register(&unique("reader"), false).await;
    let p = env.create(&author, post("original text #cache")).await;
    let key = post_key(&env, &p.post_id);
    assert_eq!(
        cached(&key).await,
        None,
        "publishing does not fill the cache"
    );

    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap().text,
        "original text #cache"
    );
    assert!(
        cached(&key).await.is_some(),
        "the read cached the body under {key}"
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut redis().await)
        .await
        .unwrap();
    assert!(
        ttl > 0 && ttl <= 600_000,
        "the body expires within the configured TTL: {ttl} ms"
    );

    // Behind the service's back: the cached body is what every hydration path returns.
    rewrite_behind_the_service(&env, &p.post_id, "changed in SQL").await;
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap().text,
        "original text #cache",
        "GetPost from the cache"
    );
    assert_eq!(
        env.get_post(&author, &p.post_id).await.unwrap().text,
        "original text #cache",
        "for another reader too"
    );
    let own_feed = env.feed(&author).await;
    assert_eq!(
        own_feed.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
        vec!["original text #cache"],
        "GetFeed from the cache"
    );
    let listed = env.profile(&reader, &author).await;
    assert_eq!(
        listed.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
        vec!["original text #cache"],
        "ListUserPosts too"
    );

    // The per-reader part still comes from the database on every read: counters, liked_by_me...
    env.like(&reader, &p.post_id).await.unwrap();
    let liked = env.get_post(&reader, &p.post_id).await.unwrap();
    assert_eq!(
        (liked.like_count, liked.liked_by_me, liked.text.as_str()),
        (1, true, "original text #cache")
    );
    // ...and the read rules: a post made private in SQL is gone for the reader at once,
    // cached body or not, while its author still reads it.
    let id = uuid::Uuid::parse_str(&p.post_id).unwrap();
    sqlx::query("UPDATE posts SET visibility = 3 WHERE id = $1")
        .bind(id)
        .execute(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(
        env.profile(&reader, &author).await.is_empty(),
        "the profile hides it from the reader"
    );
    let own = env.get_post(&author, &p.post_id).await.unwrap();
    assert_eq!(
        own.visibility,
        pb::PostVisibility::Private as i32,
        "visibility is the row's, not the cached body's"
    );
}

#[tokio::test]
async fn with_the_post_cache_disabled_every_read_goes_to_postgres() {
    let env = start_with(|c| c.post_cache_ttl = Duration::ZERO).await;
    let author = env.register(&unique("author"), false).await;
    let p = env.create(&author, post("original")).await;
    assert_eq!(
        env.get_post(&author, &p.post_id).await.unwrap().text,
        "original"
    );
    assert_eq!(
        cached(&post_key(&env, &p.post_id)).await,
        None,
        "nothing cached"
    );
    rewrite_behind_the_service(&env, &p.post_id, "changed in SQL").await;
    assert_eq!(
        env.get_post(&author, &p.post_id).await.unwrap().text,
        "changed in SQL"
    );
}

#[tokio::test]
async fn an_update_through_the_service_is_read_back_at_once_even_over_a_stale_cached_body() {
    let env = start().await;
    let author = env.register(&unique("author"), false).await;
    let reader = env.register(&unique("reader"), false).await;
    let p = env.create(&author, post("before the edit")).await;
    let key = post_key(&env, &p.post_id);
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap().text,
        "before the edit"
    );
    let old_body = cached(&key).await.expect("cached by the read");

    let mut client = env.client.clone();
    let updated = client
        .update_post(as_user(&author, set_text(&p.post_id, "after the edit")))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(updated.text, "after the edit");
    assert_eq!(
        cached(&key).await,
        None,
        "the update dropped the cached body"
    );
    let read = env.get_post(&reader, &p.post_id).await.unwrap();
    assert_eq!((read.text.as_str(), read.edited), ("after the edit", true));
    assert_eq!(env.feed(&author).await[0].text, "after the edit");

    // A read racing the update may write the old body back after the invalidation; it
    // carries the old version and is never served.
    put(&key, &old_body).await;
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap().text,
        "after the edit",
        "stale body refused"
    );
    assert_eq!(
        env.profile(&reader, &author).await[0].text,
        "after the edit"
    );
    let refreshed = cached(&key).await.expect("re-cached");
    assert_ne!(
        refreshed, old_body,
        "the stale entry was replaced by the current body"
    );
}

#[tokio::test]
async fn deleted_and_hidden_posts_disappear_although_their_bodies_were_cached() {
    let env = start().await;
    let reader = env.register(&unique("reader"), false).await;
    let author = env.register(&unique("author"), false).await;
    let admin = env.token_user(&["user", "admin"]);
    env.follow(&reader, &author).await;
    let hidden = env.create(&author, post("to be hidden")).await;
    let deleted = env.create(&author, post("to be deleted")).await;
    env.wait_feed(&reader, &hidden.post_id, true).await;
    env.wait_feed(&reader, &deleted.post_id, true).await;
    let mut bodies = Vec::new();
    for p in [&hidden, &deleted] {
        env.get_post(&reader, &p.post_id).await.unwrap();
        bodies.push((
            post_key(&env, &p.post_id),
            cached(&post_key(&env, &p.post_id))
                .await
                .expect("cached by the reads"),
        ));
    }

    env.moderate(&admin, &hidden.post_id, pb::ModerationAction::Hide, "spam")
        .await
        .unwrap();
    env.delete_post(&author, &deleted.post_id).await.unwrap();
    for (key, _) in &bodies {
        assert_eq!(cached(key).await, None, "{key} invalidated");
    }
    // Even with the bodies put back into the cache, the rules evaluated in SQL decide.
    for (key, body) in &bodies {
        put(key, body).await;
    }
    for p in [&hidden, &deleted] {
        assert_eq!(
            env.get_post(&reader, &p.post_id).await.unwrap_err().code(),
            Code::NotFound,
            "GetPost {}",
            p.text
        );
    }
    let ids: Vec<String> = env
        .feed(&reader)
        .await
        .into_iter()
        .map(|p| p.post_id)
        .collect();
    assert!(
        !ids.contains(&hidden.post_id) && !ids.contains(&deleted.post_id),
        "feed right after: {ids:?}"
    );
    assert!(env.profile(&reader, &author).await.is_empty(), "profile");
    assert_eq!(
        env.get_post(&author, &deleted.post_id)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound,
        "deleted for its author too"
    );
    let own = env.get_post(&author, &hidden.post_id).await.unwrap();
    assert_eq!(
        own.moderation_state,
        pb::ModerationState::Hidden as i32,
        "the author sees the moderation from the row"
    );
    assert!(
        !env.feed(&author)
            .await
            .iter()
            .any(|p| p.post_id == hidden.post_id),
        "hidden posts stay out of feeds"
    );
}

#[tokio::test]
async fn reads_and_writes_work_with_redis_unreachable() {
    let env = start_with(|c| c.redis.url = "redis://127.0.0.1:1".to_string().into()).await;
    let author = env.register(&unique("author"), false).await;
    let reader = env.register(&unique("reader"), false).await;
    let p = env.create(&author, post("no redis #offline")).await;
    for _ in 0..2 {
        let read = env.get_post(&reader, &p.post_id).await.unwrap();
        assert_eq!(
            (read.text.as_str(), read.author.unwrap().handle),
            ("no redis #offline", author.handle.clone())
        );
    }
    assert_eq!(env.feed(&author).await.len(), 1, "GetFeed");
    assert_eq!(
        env.profile(&reader, &author).await[0].text,
        "no redis #offline",
        "ListUserPosts"
    );
    let mut client = env.client.clone();
    let found = client
        .search_posts(as_user(
            &reader,
            pb::SearchPostsRequest {
                tags: vec!["offline".into()],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.posts.len(), 1, "SearchPosts");
    client
        .update_post(as_user(
            &author,
            set_text(&p.post_id, "edited without redis"),
        ))
        .await
        .unwrap();
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap().text,
        "edited without redis"
    );
    env.delete_post(&author, &p.post_id).await.unwrap();
    assert_eq!(
        env.get_post(&reader, &p.post_id).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[tokio::test]
async fn user_events_refresh_cached_author_summaries() {
    // A TTL far beyond the test: only the invalidation can make a change show.
    let env = start_with(|c| c.user_cache_ttl = Duration::from_secs(300)).await;
    let author = env.register(&unique("author"), false).await;
    let reader = env.register(&unique("reader"), false).await;
    let p = env.create(&author, post("who wrote this")).await;
    assert_eq!(
        env.get_post(&reader, &p.post_id)
            .await
            .unwrap()
            .author
            .unwrap()
            .handle,
        author.handle
    );
    let key = user_key(&env, &author.id);
    let summary =
        UserSummary::decode(cached(&key).await.expect("summary cached").as_slice()).unwrap();
    assert_eq!(summary.handle, author.handle);

    // Reads take the summary from the cache, not from the user service.
    put(
        &key,
        &UserSummary {
            handle: "from_the_cache".into(),
            ..summary.clone()
        }
        .encode_to_vec(),
    )
    .await;
    assert_eq!(
        env.get_post(&reader, &p.post_id)
            .await
            .unwrap()
            .author
            .unwrap()
            .handle,
        "from_the_cache"
    );

    // A handle change in the user service reaches the consumer as UserUpdated and drops it.
    let new_handle = unique("renamed");
    let mut users = env.users.clone();
    users
        .update_user(as_user(
            &author,
            upb::UpdateUserRequest {
                user: Some(upb::User {
                    user_id: author.id.clone(),
                    handle: new_handle.clone(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["handle".into()],
                }),
            },
        ))
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the feed shows the new handle",
        || {
            let (env, reader, id, want) = (&env, &reader, p.post_id.clone(), new_handle.clone());
            async move {
                env.get_post(reader, &id)
                    .await
                    .unwrap()
                    .author
                    .unwrap()
                    .handle
                    == want
            }
        },
    )
    .await;
    assert_eq!(
        env.feed(&author).await[0].author.as_ref().unwrap().handle,
        new_handle,
        "GetFeed"
    );

    // Any profile field: the display name shown with posts follows too.
    put(
        &key,
        &UserSummary {
            display_name: "stale name".into(),
            ..summary
        }
        .encode_to_vec(),
    )
    .await;
    assert_eq!(
        env.get_post(&reader, &p.post_id)
            .await
            .unwrap()
            .author
            .unwrap()
            .display_name,
        "stale name"
    );
    users
        .update_user(as_user(
            &author,
            upb::UpdateUserRequest {
                user: Some(upb::User {
                    user_id: author.id.clone(),
                    display_name: "Fresh Name".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
        ))
        .await
        .unwrap();
    wait_until(
        Duration::from_secs(30),
        "the new display name shows",
        || {
            let (env, reader, id) = (&env, &reader, p.post_id.clone());
            async move {
                env.get_post(reader, &id)
                    .await
                    .unwrap()
                    .author
                    .unwrap()
                    .display_name
                    == "Fresh Name"
            }
        },
    )
    .await;
}
