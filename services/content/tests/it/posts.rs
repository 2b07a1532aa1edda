//! Posts through the API: validation (nothing stored on bad input), role checks, tags and
//! premium previews, page tokens bound to their reader and filters, and rate limits.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_the_field_and_stores_nothing() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let ok_image = image("https://cdn.trainertribe.dev/a.jpg");
    let cases: Vec<(&str, pb::Post, &str)> = vec![
        (
            "empty post",
            pb::Post {
                r#type: pb::PostType::Regular as i32,
                ..Default::default()
            },
            "post.text",
        ),
        ("oversized text", post(&"x".repeat(5001)), "post.text"),
        (
            "eleven media",
            pb::Post {
                media: vec![ok_image.clone(); 11],
                ..post("gym")
            },
            "post.media",
        ),
        (
            "http media url",
            pb::Post {
                media: vec![image("http://cdn.trainertribe.dev/a.jpg")],
                ..post("gym")
            },
            "post.media[0].url",
        ),
        (
            "foreign media host",
            pb::Post {
                media: vec![image("https://evil.example/a.jpg")],
                ..post("gym")
            },
            "post.media[0].url",
        ),
        (
            "media type unset",
            pb::Post {
                media: vec![pb::Media {
                    r#type: 0,
                    ..ok_image.clone()
                }],
                ..post("gym")
            },
            "post.media[0].type",
        ),
        (
            "unknown media type",
            pb::Post {
                media: vec![pb::Media {
                    r#type: 42,
                    ..ok_image.clone()
                }],
                ..post("gym")
            },
            "post.media[0].type",
        ),
        (
            "zero width",
            pb::Post {
                media: vec![pb::Media {
                    width: Some(0),
                    ..ok_image.clone()
                }],
                ..post("gym")
            },
            "post.media[0].width",
        ),
        (
            "duration on an image",
            pb::Post {
                media: vec![pb::Media {
                    duration: Some(prost_types::Duration {
                        seconds: 5,
                        nanos: 0,
                    }),
                    ..ok_image.clone()
                }],
                ..post("gym")
            },
            "post.media[0].duration",
        ),
        (
            "type unset",
            pb::Post {
                r#type: 0,
                ..post("gym")
            },
            "post.type",
        ),
        (
            "unknown type",
            pb::Post {
                r#type: 99,
                ..post("gym")
            },
            "post.type",
        ),
        (
            "unknown visibility",
            pb::Post {
                visibility: 99,
                ..post("gym")
            },
            "post.visibility",
        ),
    ];
    for (name, bad, field) in cases {
        let status = env
            .client
            .create_post(as_user(
                &ana,
                pb::CreatePostRequest {
                    post: Some(bad),
                    request_id: unique("req"),
                },
            ))
            .await
            .expect_err(name);
        let fields = violated_fields(&status);
        assert!(
            fields.iter().any(|f| f == field),
            "{name}: expected a violation on {field}, got {fields:?}"
        );
    }
    let status = env
        .client
        .create_post(as_user(
            &ana,
            pb::CreatePostRequest {
                post: Some(post("ok")),
                request_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["request_id"]);
    // Exactly 5000 characters and 10 media are fine.
    let max = pb::Post {
        media: vec![ok_image; 10],
        ..post(&"é".repeat(5000))
    };
    let created = env.create(&ana, max).await;
    assert_eq!(created.media.len(), 10);
    assert_eq!(created.media[9].position, 9);
    assert_eq!(env.post_count().await, 1, "only the valid post was stored");

    // page_size extremes and unknown enum values on list methods.
    let negative = env
        .client
        .get_feed(as_user(
            &ana,
            pb::GetFeedRequest {
                page_size: -1,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&negative), vec!["page_size"]);
    let huge = env
        .client
        .get_feed(as_user(
            &ana,
            pb::GetFeedRequest {
                page_size: i32::MAX,
                page_token: String::new(),
            },
        ))
        .await;
    assert!(
        huge.is_ok(),
        "a huge page_size is capped, not refused: {huge:?}"
    );
    let unknown = env
        .client
        .list_user_posts(as_user(
            &ana,
            pb::ListUserPostsRequest {
                user_id: ana.id.clone(),
                r#type: 7,
                page_size: 0,
                page_token: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), vec!["type"]);
    let search = env
        .client
        .search_posts(as_user(&ana, pb::SearchPostsRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&search), vec!["query"]);
    let long_query = env
        .client
        .search_posts(as_user(
            &ana,
            pb::SearchPostsRequest {
                query: "q".repeat(201),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&long_query), vec!["query"]);
    let bad_id = env.get_post(&ana, "nope").await.unwrap_err();
    assert_eq!(violated_fields(&bad_id), vec!["post_id"]);
}

#[tokio::test]
async fn tags_are_parsed_and_premium_posts_need_a_trainer_and_lock_for_free_readers() {
    let mut env = start().await;
    let coach = env.register(&unique("coach"), true).await;
    let member = env.register(&unique("member"), false).await;
    let created = env
        .create(
            &member,
            post("Crushed #LegDay today #legday #Squats_2 #123"),
        )
        .await;
    assert_eq!(created.tags, vec!["legday", "squats_2"]);
    assert_eq!(
        created.visibility,
        pb::PostVisibility::Public as i32,
        "UNSPECIFIED visibility is PUBLIC"
    );
    assert_eq!(
        created.author.as_ref().unwrap().handle,
        member.handle,
        "author hydrated from the user service"
    );

    let premium = pb::Post {
        r#type: pb::PostType::Premium as i32,
        media: vec![image("https://cdn.trainertribe.dev/p.mp4")],
        ..post(&"secret ".repeat(100))
    };
    let denied = env
        .client
        .create_post(as_user(
            &member,
            pb::CreatePostRequest {
                post: Some(premium.clone()),
                request_id: unique("r"),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&denied, Code::PermissionDenied, Some("TRAINER_REQUIRED"));
    let paid = env.create(&coach, premium).await;
    assert!(!paid.locked, "the author sees it in full");

    let locked = env.get_post(&member, &paid.post_id).await.unwrap();
    assert!(locked.locked);
    assert_eq!(locked.text.chars().count(), 280);
    assert!(locked.media[0].url.is_empty());
    let like = env.like(&member, &paid.post_id).await.unwrap_err();
    assert_status(&like, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));

    let subscriber = member.with_tier(&env.keys, "premium");
    let full = env.get_post(&subscriber, &paid.post_id).await.unwrap();
    assert!(!full.locked);
    assert_eq!(full.media[0].url, "https://cdn.trainertribe.dev/p.mp4");

    // The type filter of a profile: one kind, or every kind when UNSPECIFIED.
    let regular = env
        .create(&coach, post("a regular post by the coach"))
        .await;
    let profile = |kind: pb::PostType| pb::ListUserPostsRequest {
        user_id: coach.id.clone(),
        r#type: kind as i32,
        page_size: 10,
        page_token: String::new(),
    };
    for (kind, want) in [
        (pb::PostType::Premium, vec![paid.post_id.clone()]),
        (pb::PostType::Regular, vec![regular.post_id.clone()]),
        (
            pb::PostType::Unspecified,
            vec![regular.post_id.clone(), paid.post_id.clone()],
        ),
    ] {
        let listed = env
            .client
            .list_user_posts(as_user(&member, profile(kind)))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            listed
                .posts
                .iter()
                .map(|p| p.post_id.clone())
                .collect::<Vec<_>>(),
            want,
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_page_token_works_only_for_the_reader_and_filters_it_was_minted_for() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let bob = env.token_user(&["user"]);
    for i in 0..3 {
        env.create(&ana, post(&format!("post {i}"))).await;
    }
    let list = |page_token: String| pb::ListUserPostsRequest {
        user_id: ana.id.clone(),
        r#type: 0,
        page_size: 2,
        page_token,
    };
    let first = env
        .client
        .list_user_posts(as_user(&ana, list(String::new())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.posts.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let stolen = env
        .client
        .list_user_posts(as_user(&bob, list(first.next_page_token.clone())))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&stolen), vec!["page_token"]);
    let changed = pb::ListUserPostsRequest {
        r#type: pb::PostType::Regular as i32,
        ..list(first.next_page_token.clone())
    };
    let refiltered = env
        .client
        .list_user_posts(as_user(&ana, changed))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refiltered), vec!["page_token"]);
    let feed_token = env
        .client
        .get_feed(as_user(
            &bob,
            pb::GetFeedRequest {
                page_size: 1,
                page_token: first.next_page_token.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&feed_token),
        vec!["page_token"],
        "another method's token"
    );
    let second = env
        .client
        .list_user_posts(as_user(&ana, list(first.next_page_token)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.posts.len(), 1);
    assert!(second.next_page_token.is_empty());
    let mut all: Vec<String> = first
        .posts
        .iter()
        .chain(&second.posts)
        .map(|p| p.post_id.clone())
        .collect();
    let sorted = {
        let mut s = all.clone();
        s.sort();
        s.reverse();
        s
    };
    assert_eq!(all, sorted, "newest first across pages");
    all.dedup();
    assert_eq!(all.len(), 3);
}

#[tokio::test]
async fn publishing_is_rate_limited_per_user_but_replays_are_free() {
    let mut env = start_with(|c| c.limits.posts_per_hour = 2).await;
    let ana = env.token_user(&["user"]);
    let bob = env.token_user(&["user"]);
    let first = pb::CreatePostRequest {
        post: Some(post("one")),
        request_id: "rl-1".into(),
    };
    let one = env
        .client
        .create_post(as_user(&ana, first.clone()))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    env.create(&ana, post("two")).await;
    let third = env
        .client
        .create_post(as_user(
            &ana,
            pb::CreatePostRequest {
                post: Some(post("three")),
                request_id: "rl-3".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&third, Code::ResourceExhausted, Some("POST_RATE_LIMITED"));
    let replay = env
        .client
        .create_post(as_user(&ana, first))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(
        replay.post_id, one.post_id,
        "a retry of an earlier post is not a new publication"
    );
    env.create(&bob, post("bob has his own allowance")).await;
    assert_eq!(env.post_count().await, 3, "the limited post was not stored");
}
