//! Follows, blocks, pagination and the internal graph RPCs.

use crate::common::*;
use tonic::Code;
use tribe_proto::user::v1 as pb;
use tribe_testkit::authed;

fn followers(user: &Account, page_size: i32, page_token: String) -> pb::ListFollowersRequest {
    pb::ListFollowersRequest {
        user_id: user.id.clone(),
        page_size,
        page_token,
    }
}

#[tokio::test]
async fn follow_is_idempotent_and_counted_once() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let coach = env.register("coach", true).await;
    let first = env
        .client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: coach.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .follow
        .unwrap();
    let again = env
        .client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: coach.id.clone(),
        }))
        .await
        .unwrap()
        .into_inner()
        .follow
        .unwrap();
    assert_eq!(
        first.follow_time, again.follow_time,
        "a repeated follow changes nothing"
    );
    assert_eq!(first.user.unwrap().handle, "coach");
    let profile = env
        .client
        .get_user(ana.request(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::UserId(coach.id.clone())),
        }))
        .await
        .unwrap()
        .into_inner()
        .user
        .unwrap();
    assert_eq!(profile.follower_count, 1);

    let me = env
        .client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&me, Code::InvalidArgument, Some("CANNOT_FOLLOW_SELF"));
    let ghost = env
        .client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: uuid::Uuid::now_v7().to_string(),
        }))
        .await
        .unwrap_err();
    assert_status(&ghost, Code::NotFound, None);

    env.client
        .unfollow_user(ana.request(pb::UnfollowUserRequest {
            user_id: coach.id.clone(),
        }))
        .await
        .unwrap();
    env.client
        .unfollow_user(ana.request(pb::UnfollowUserRequest {
            user_id: coach.id.clone(),
        }))
        .await
        .unwrap();
    let list = env
        .client
        .list_followers(ana.request(followers(&coach, 0, String::new())))
        .await
        .unwrap()
        .into_inner();
    assert!(list.followers.is_empty());
}

#[tokio::test]
async fn concurrent_follows_count_once() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let coach = env.register("coach", true).await;
    let calls = (0..10).map(|_| {
        let mut client = env.client.clone();
        let request = ana.request(pb::FollowUserRequest {
            user_id: coach.id.clone(),
        });
        async move { client.follow_user(request).await }
    });
    for result in futures::future::join_all(calls).await {
        result.expect("every concurrent follow succeeds");
    }
    let (followers, following): (i64, i64) =
        sqlx::query_as("SELECT (SELECT follower_count FROM users WHERE id = $1), (SELECT following_count FROM users WHERE id = $2)")
            .bind(uuid::Uuid::parse_str(&coach.id).unwrap())
            .bind(uuid::Uuid::parse_str(&ana.id).unwrap())
            .fetch_one(&env.db.pool)
            .await
            .unwrap();
    assert_eq!((followers, following), (1, 1));
}

#[tokio::test]
async fn a_storm_of_crossing_follows_neither_deadlocks_nor_miscounts() {
    let mut env = start().await;
    let mut users = Vec::new();
    for i in 0..8 {
        users.push(env.register(&format!("storm{i}"), false).await);
    }
    // Everyone follows everyone at once: many transactions touch the same user rows.
    let calls = users
        .iter()
        .flat_map(|a| {
            users
                .iter()
                .filter(move |b| b.id != a.id)
                .map(move |b| (a.clone(), b.id.clone()))
        })
        .map(|(a, b)| {
            let mut client = env.client.clone();
            async move {
                client
                    .follow_user(a.request(pb::FollowUserRequest { user_id: b }))
                    .await
            }
        });
    for result in futures::future::join_all(calls).await {
        result.expect("no follow fails (no deadlock)");
    }
    let counts: Vec<(i64, i64)> =
        sqlx::query_as("SELECT follower_count, following_count FROM users")
            .fetch_all(&env.db.pool)
            .await
            .unwrap();
    assert!(counts.iter().all(|c| *c == (7, 7)), "{counts:?}");
}

#[tokio::test]
async fn followers_paginate_with_bound_tokens() {
    let mut env = start().await;
    let coach = env.register("coach", true).await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let fan = env.register(&format!("fan{i}"), false).await;
        env.client
            .follow_user(fan.request(pb::FollowUserRequest {
                user_id: coach.id.clone(),
            }))
            .await
            .unwrap();
        fans.push(fan);
    }
    let viewer = &fans[0];
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = env
            .client
            .list_followers(viewer.request(followers(&coach, 2, token)))
            .await
            .unwrap()
            .into_inner();
        assert!(page.followers.len() <= 2);
        seen.extend(page.followers.into_iter().map(|f| f.user.unwrap().handle));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        ["fan4", "fan3", "fan2", "fan1", "fan0"],
        "newest follow first, each once"
    );

    let negative = env
        .client
        .list_followers(viewer.request(followers(&coach, -1, String::new())))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&negative), ["page_size"]);
    let huge = env
        .client
        .list_followers(viewer.request(followers(&coach, 1_000_000, String::new())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(huge.followers.len(), 5, "capped, not rejected");

    let page = env
        .client
        .list_followers(viewer.request(followers(&coach, 2, String::new())))
        .await
        .unwrap()
        .into_inner();
    let forged = env
        .client
        .list_followers(viewer.request(followers(&coach, 2, "AAAA".into())))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&forged), ["page_token"]);
    let mut tampered = page.next_page_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let edited = env
        .client
        .list_followers(viewer.request(followers(&coach, 2, tampered)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&edited), ["page_token"]);
    let other_reader = env
        .client
        .list_followers(fans[1].request(followers(&coach, 2, page.next_page_token.clone())))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&other_reader),
        ["page_token"],
        "a token minted for another reader is rejected"
    );
    let other_list = env
        .client
        .list_followers(viewer.request(followers(&fans[1], 2, page.next_page_token)))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&other_list),
        ["page_token"],
        "a token for another user's list is rejected"
    );
}

#[tokio::test]
async fn blocking_removes_follows_and_hides_the_blocker() {
    let mut env = start().await;
    let ana = env.register("ana", false).await;
    let troll = env.register("troll", false).await;
    env.client
        .follow_user(troll.request(pb::FollowUserRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap();
    env.client
        .follow_user(ana.request(pb::FollowUserRequest {
            user_id: troll.id.clone(),
        }))
        .await
        .unwrap();
    env.client
        .block_user(ana.request(pb::BlockUserRequest {
            user_id: troll.id.clone(),
        }))
        .await
        .unwrap();
    env.client
        .block_user(ana.request(pb::BlockUserRequest {
            user_id: troll.id.clone(),
        }))
        .await
        .unwrap();

    let refollow = env
        .client
        .follow_user(troll.request(pb::FollowUserRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(&refollow, Code::FailedPrecondition, Some("BLOCKED"));
    let hidden = env
        .client
        .get_user(troll.request(pb::GetUserRequest {
            lookup: Some(pb::get_user_request::Lookup::UserId(ana.id.clone())),
        }))
        .await
        .unwrap_err();
    assert_status(&hidden, Code::NotFound, None);
    let list = env
        .client
        .list_followers(troll.request(followers(&ana, 0, String::new())))
        .await
        .unwrap_err();
    assert_status(&list, Code::NotFound, None);
    let mine = env
        .client
        .list_followers(ana.request(followers(&ana, 0, String::new())))
        .await
        .unwrap()
        .into_inner();
    assert!(mine.followers.is_empty(), "the block removed the follow");
    let blocked = env
        .client
        .list_blocked_users(ana.request(pb::ListBlockedUsersRequest {
            page_size: 0,
            page_token: String::new(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        blocked
            .users
            .iter()
            .map(|u| u.handle.as_str())
            .collect::<Vec<_>>(),
        ["troll"]
    );
    let rel = env
        .client
        .get_relationships(ana.request(pb::GetRelationshipsRequest {
            user_ids: vec![troll.id.clone()],
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(rel.relationships[0].blocking && !rel.relationships[0].following);
    let self_block = env
        .client
        .block_user(ana.request(pb::BlockUserRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap_err();
    assert_status(
        &self_block,
        Code::InvalidArgument,
        Some("CANNOT_BLOCK_SELF"),
    );

    env.client
        .unblock_user(ana.request(pb::UnblockUserRequest {
            user_id: troll.id.clone(),
        }))
        .await
        .unwrap();
    env.client
        .follow_user(troll.request(pb::FollowUserRequest {
            user_id: ana.id.clone(),
        }))
        .await
        .unwrap();
}

#[tokio::test]
async fn internal_methods_need_a_service_credential() {
    let mut env = start().await;
    let coach = env.register("coach", true).await;
    let mut fan_ids = Vec::new();
    for i in 0..7 {
        let fan = env.register(&format!("fan{i}"), false).await;
        env.client
            .follow_user(fan.request(pb::FollowUserRequest {
                user_id: coach.id.clone(),
            }))
            .await
            .unwrap();
        fan_ids.push(fan.id);
    }
    let batch = pb::BatchGetUsersRequest {
        user_ids: vec![
            coach.id.clone(),
            uuid::Uuid::now_v7().to_string(),
            fan_ids[0].clone(),
        ],
    };
    let denied = env
        .client
        .batch_get_users(coach.request(batch.clone()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = env.client.batch_get_users(batch.clone()).await.unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let service = env.keys.service_token();
    let users = env
        .client
        .batch_get_users(authed(batch, &service))
        .await
        .unwrap()
        .into_inner()
        .users;
    assert_eq!(
        users.iter().map(|u| u.user_id.clone()).collect::<Vec<_>>(),
        [coach.id.clone(), fan_ids[0].clone()],
        "request order, unknown skipped"
    );

    let mut stream = env
        .client
        .list_follower_ids(authed(
            pb::ListFollowerIdsRequest {
                user_id: coach.id.clone(),
                after_user_id: String::new(),
                chunk_size: 3,
            },
            &service,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut streamed = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.message().await.unwrap() {
        assert!(chunk.follower_ids.len() <= 3);
        chunks += 1;
        streamed.extend(chunk.follower_ids);
    }
    fan_ids.sort();
    assert_eq!(streamed, fan_ids, "every follower once, ascending");
    assert_eq!(chunks, 3);
    let user_stream = env
        .client
        .list_follower_ids(coach.request(pb::ListFollowerIdsRequest {
            user_id: coach.id.clone(),
            after_user_id: String::new(),
            chunk_size: 0,
        }))
        .await
        .unwrap_err();
    assert_eq!(user_stream.code(), Code::PermissionDenied);

    let rels = env
        .client
        .batch_get_relationships(authed(
            pb::BatchGetRelationshipsRequest {
                viewer_id: fan_ids[0].clone(),
                user_ids: vec![coach.id.clone()],
            },
            &service,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(rels.relationships[0].following);
}
