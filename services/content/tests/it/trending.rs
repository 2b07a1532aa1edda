//! Trending through the API: posts ranked by decayed engagement (likes plus a commenter beat
//! one repeated commenter), tags only with enough engaged users, computed on demand.

use crate::common::*;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn trending_posts_and_tags_on_demand() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let readers: Vec<Account> = (0..3).map(|_| env.token_user(&["user"])).collect();
    let squat = env
        .create(&ana, post("Heavy squats and deadlifts today #legday"))
        .await;
    let run = env.create(&ana, post("Easy morning running #cardio")).await;

    for r in &readers {
        env.like(r, &squat.post_id).await.unwrap();
    }
    // squat: three likes and one commenter (3 + 3); run: one commenter writing three times
    // (3, not 9: further comments by the same user add nothing).
    let comment = |post_id: &str| pb::CreateCommentRequest {
        post_id: post_id.into(),
        text: "go".into(),
        request_id: unique("c"),
        ..Default::default()
    };
    env.client
        .create_comment(as_user(&readers[1], comment(&squat.post_id)))
        .await
        .unwrap();
    for _ in 0..3 {
        env.client
            .create_comment(as_user(&readers[0], comment(&run.post_id)))
            .await
            .unwrap();
    }
    tribe_content::store::trending::recompute(
        &env.db.pool,
        &tribe_content::store::trending::WINDOWS,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let trending = env
        .client
        .list_trending_posts(as_user(
            &readers[1],
            pb::ListTrendingPostsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    let order: Vec<String> = trending
        .posts
        .iter()
        .map(|t| t.post.as_ref().unwrap().post_id.clone())
        .collect();
    assert_eq!(
        order,
        vec![squat.post_id.clone(), run.post_id.clone()],
        "likes plus a commenter outweigh one repeated commenter"
    );
    assert!(trending.posts[0].score > trending.posts[1].score && trending.posts[1].score > 0.0);
    let tags = env
        .client
        .list_trending_tags(as_user(&readers[1], pb::ListTrendingTagsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tags.tags.iter().map(|t| t.tag.as_str()).collect::<Vec<_>>(),
        vec!["legday"],
        "only tags with three engaged users"
    );
    assert_eq!(tags.tags[0].engaged_user_count, 4);
    assert_eq!(tags.tags[0].post_count, 1);
}
