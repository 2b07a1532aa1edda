//! Posts through the API: validation (nothing stored on bad input), ownership and role
//! checks, reports and moderation, page tokens bound to their reader, idempotent create
//! and like, rate limits, edits and premium previews.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

async fn post_count(env: &Env) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM posts")
        .fetch_one(&env.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_input_is_invalid_argument_naming_the_field_and_stores_nothing() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
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
    let created = create(&mut env, &ana, max).await;
    assert_eq!(created.media.len(), 10);
    assert_eq!(created.media[9].position, 9);
    assert_eq!(post_count(&env).await, 1, "only the valid post was stored");

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
    let bad_id = env
        .client
        .get_post(as_user(
            &ana,
            pb::GetPostRequest {
                post_id: "nope".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad_id), vec!["post_id"]);
}

#[tokio::test]
async fn tags_are_parsed_and_premium_posts_need_a_trainer_and_lock_for_free_readers() {
    let mut env = start().await;
    let coach = register(&mut env, &unique("coach"), true).await;
    let member = register(&mut env, &unique("member"), false).await;
    let created = create(
        &mut env,
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
    let paid = create(&mut env, &coach, premium).await;
    assert!(!paid.locked, "the author sees it in full");

    let locked = env
        .client
        .get_post(as_user(
            &member,
            pb::GetPostRequest {
                post_id: paid.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert!(locked.locked);
    assert_eq!(locked.text.chars().count(), 280);
    assert!(locked.media[0].url.is_empty());
    let like = env
        .client
        .like_post(as_user(
            &member,
            pb::LikePostRequest {
                post_id: paid.post_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&like, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));

    let subscriber = member.with_tier(&env.keys, "premium");
    let full = env
        .client
        .get_post(as_user(
            &subscriber,
            pb::GetPostRequest {
                post_id: paid.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert!(!full.locked);
    assert_eq!(full.media[0].url, "https://cdn.trainertribe.dev/p.mp4");

    // The type filter of a profile: one kind, or every kind when UNSPECIFIED.
    let regular = create(&mut env, &coach, post("a regular post by the coach")).await;
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
async fn only_authors_change_posts_and_only_admins_moderate() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
    let bob = token_user(&env.keys, &["user"]);
    let admin = token_user(&env.keys, &["user", "admin"]);
    let created = create(&mut env, &ana, post("mine #mine")).await;

    let update = pb::UpdatePostRequest {
        post: Some(pb::Post {
            post_id: created.post_id.clone(),
            ..post("hijacked")
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["text".into()],
        }),
    };
    let status = env
        .client
        .update_post(as_user(&bob, update.clone()))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let status = env
        .client
        .delete_post(as_user(
            &bob,
            pb::DeletePostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let status = env
        .client
        .moderate_post(as_user(
            &bob,
            pb::ModeratePostRequest {
                post_id: created.post_id.clone(),
                action: pb::ModerationAction::Remove as i32,
                reason: "spam".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let status = env
        .client
        .list_post_reports(as_user(&bob, pb::ListPostReportsRequest::default()))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let internal = env
        .client
        .batch_get_posts(as_user(
            &bob,
            pb::BatchGetPostsRequest {
                post_ids: vec![created.post_id.clone()],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_status(&internal, Code::PermissionDenied, None);
    let unauthenticated = env
        .client
        .get_post(pb::GetPostRequest {
            post_id: created.post_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);

    let unchanged = env
        .client
        .get_post(as_user(
            &ana,
            pb::GetPostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(unchanged.text, "mine #mine", "nothing changed");

    // Immutable paths are refused; the author's edit goes through and re-parses tags.
    let bad_mask = pb::UpdatePostRequest {
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["type".into()],
        }),
        ..update.clone()
    };
    let status = env
        .client
        .update_post(as_user(&ana, bad_mask))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["update_mask"]);
    let edited = env
        .client
        .update_post(as_user(
            &ana,
            pb::UpdatePostRequest {
                post: Some(pb::Post {
                    post_id: created.post_id.clone(),
                    ..post("edited #fresh")
                }),
                ..update
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert!(edited.edited);
    assert_eq!(edited.tags, vec!["fresh"]);

    // Reports and moderation: a report is filed once; the admin hides the post.
    let report = env
        .client
        .report_post(as_user(
            &bob,
            pb::ReportPostRequest {
                post_id: created.post_id.clone(),
                reason: pb::ReportReason::Spam as i32,
                details: String::new(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        report.into_inner().report.unwrap().status,
        pb::ReportStatus::Open as i32
    );
    let again = env
        .client
        .report_post(as_user(
            &bob,
            pb::ReportPostRequest {
                post_id: created.post_id.clone(),
                reason: pb::ReportReason::Spam as i32,
                details: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&again, Code::AlreadyExists, Some("ALREADY_REPORTED"));
    let own = env
        .client
        .report_post(as_user(
            &ana,
            pb::ReportPostRequest {
                post_id: created.post_id.clone(),
                reason: pb::ReportReason::Spam as i32,
                details: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&own, Code::InvalidArgument, Some("CANNOT_REPORT_OWN_POST"));
    let queue = env
        .client
        .list_post_reports(as_user(&admin, pb::ListPostReportsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(queue.reports.len(), 1);
    assert_eq!(queue.posts.len(), 1);
    let hidden = env
        .client
        .moderate_post(as_user(
            &admin,
            pb::ModeratePostRequest {
                post_id: created.post_id.clone(),
                action: pb::ModerationAction::Hide as i32,
                reason: "spam".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(hidden.moderation_state, pb::ModerationState::Hidden as i32);
    let gone = env
        .client
        .get_post(as_user(
            &bob,
            pb::GetPostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&gone, Code::NotFound, None);
    let author_view = env
        .client
        .get_post(as_user(
            &ana,
            pb::GetPostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(author_view.moderation_reason, "spam", "the author sees why");
    let actioned = env
        .client
        .list_post_reports(as_user(
            &admin,
            pb::ListPostReportsRequest {
                status: pb::ReportStatus::Actioned as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        actioned.reports.len(),
        1,
        "the open report was closed by the action"
    );

    // Deleting by the author removes it for everyone.
    env.client
        .delete_post(as_user(
            &ana,
            pb::DeletePostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap();
    let status = env
        .client
        .delete_post(as_user(
            &ana,
            pb::DeletePostRequest {
                post_id: created.post_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, None);
}

#[tokio::test]
async fn a_page_token_works_only_for_the_reader_and_filters_it_was_minted_for() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
    let bob = token_user(&env.keys, &["user"]);
    for i in 0..3 {
        create(&mut env, &ana, post(&format!("post {i}"))).await;
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
async fn concurrent_double_likes_count_once_and_a_retried_create_makes_one_post() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
    let bob = token_user(&env.keys, &["user"]);

    let request = pb::CreatePostRequest {
        post: Some(post("once #only")),
        request_id: "create-1".into(),
    };
    let (mut c1, mut c2) = (env.client.clone(), env.client.clone());
    let (a, b) = tokio::join!(
        c1.create_post(as_user(&ana, request.clone())),
        c2.create_post(as_user(&ana, request.clone()))
    );
    let ids: Vec<String> = [a, b]
        .into_iter()
        .filter_map(|r| match r {
            Ok(r) => Some(r.into_inner().post.unwrap().post_id),
            // The loser of a true race may be told to retry while the winner commits.
            Err(s) => {
                assert_status(&s, Code::Aborted, None);
                None
            }
        })
        .collect();
    let retry = env
        .client
        .create_post(as_user(&ana, request.clone()))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert!(
        ids.iter().all(|id| *id == retry.post_id),
        "every answer names the same post"
    );
    assert_eq!(post_count(&env).await, 1);
    let reused = env
        .client
        .create_post(as_user(
            &ana,
            pb::CreatePostRequest {
                post: Some(post("different")),
                request_id: "create-1".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_status(&reused, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));

    let like = |mut client: Client| {
        let request = as_user(
            &bob,
            pb::LikePostRequest {
                post_id: retry.post_id.clone(),
            },
        );
        async move { client.like_post(request).await }
    };
    let results = futures::future::join_all((0..8).map(|_| like(env.client.clone()))).await;
    for r in results {
        assert!(r.unwrap().into_inner().post.unwrap().liked_by_me);
    }
    let post = env
        .client
        .get_post(as_user(
            &bob,
            pb::GetPostRequest {
                post_id: retry.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(
        post.like_count, 1,
        "eight concurrent likes by one user count once"
    );
    assert!(post.liked_by_me);
    let unliked = env
        .client
        .unlike_post(as_user(
            &bob,
            pb::UnlikePostRequest {
                post_id: retry.post_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(unliked.like_count, 0);
    env.client
        .unlike_post(as_user(
            &bob,
            pb::UnlikePostRequest {
                post_id: retry.post_id.clone(),
            },
        ))
        .await
        .unwrap();
    let likes: i64 = sqlx::query_scalar("SELECT like_count FROM posts")
        .fetch_one(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(likes, 0, "unlike is idempotent too");
}

#[tokio::test]
async fn publishing_is_rate_limited_per_user_but_replays_are_free() {
    let mut env = start_with(|c| c.limits.posts_per_hour = 2).await;
    let ana = token_user(&env.keys, &["user"]);
    let bob = token_user(&env.keys, &["user"]);
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
    create(&mut env, &ana, post("two")).await;
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
    create(&mut env, &bob, post("bob has his own allowance")).await;
    assert_eq!(post_count(&env).await, 3, "the limited post was not stored");
}
