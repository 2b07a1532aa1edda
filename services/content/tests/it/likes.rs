//! Likes and idempotent creation under concurrency: eight concurrent likes by one user
//! count once, unlike is idempotent, and a retried or raced CreatePost makes one post.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn concurrent_double_likes_count_once_and_a_retried_create_makes_one_post() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let bob = env.token_user(&["user"]);

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
    assert_eq!(env.post_count().await, 1);
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
    let post = env.get_post(&bob, &retry.post_id).await.unwrap();
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
