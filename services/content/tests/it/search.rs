//! Search through the API: full-text (stemmed) and tag search.

use crate::common::*;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn search_by_words_and_tags() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let reader = env.token_user(&["user"]);
    let squat = env
        .create(&ana, post("Heavy squats and deadlifts today #legday"))
        .await;
    let run = env.create(&ana, post("Easy morning running #cardio")).await;
    let hits = env
        .client
        .search_posts(as_user(
            &reader,
            pb::SearchPostsRequest {
                query: "squat".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        hits.posts
            .iter()
            .map(|p| p.post_id.clone())
            .collect::<Vec<_>>(),
        vec![squat.post_id.clone()],
        "stemmed full-text match"
    );
    let tagged = env
        .client
        .search_posts(as_user(
            &reader,
            pb::SearchPostsRequest {
                tags: vec!["#Cardio".into()],
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        tagged
            .posts
            .iter()
            .map(|p| p.post_id.clone())
            .collect::<Vec<_>>(),
        vec![run.post_id.clone()]
    );
}
