//! Engagement and discovery through the API: comments and one level of replies, comment
//! likes, deletion rights, full-text and tag search, and trending posts and tags.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn comments_replies_and_comment_likes() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
    let bob = token_user(&env.keys, &["user"]);
    let created = create(&mut env, &ana, post("comment here")).await;
    let comment = |parent: &str, text: &str| pb::CreateCommentRequest {
        post_id: created.post_id.clone(),
        parent_comment_id: parent.into(),
        text: text.into(),
        request_id: unique("c"),
    };
    let top = env.client.create_comment(as_user(&bob, comment("", "nice"))).await.unwrap().into_inner().comment.unwrap();
    let reply = env.client.create_comment(as_user(&ana, comment(&top.comment_id, "thanks"))).await.unwrap().into_inner().comment.unwrap();
    let nested = env.client.create_comment(as_user(&bob, comment(&reply.comment_id, "again"))).await.unwrap().into_inner().comment.unwrap();
    assert_eq!(nested.parent_comment_id, top.comment_id, "a reply to a reply hangs off the top-level comment");
    let empty = env.client.create_comment(as_user(&bob, comment("", "   "))).await.unwrap_err();
    assert_eq!(violated_fields(&empty), vec!["text"]);

    let liked = env
        .client
        .like_comment(as_user(&ana, pb::LikeCommentRequest { comment_id: top.comment_id.clone() }))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    assert_eq!(liked.like_count, 1);
    let tops = env
        .client
        .list_comments(as_user(&ana, pb::ListCommentsRequest { post_id: created.post_id.clone(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tops.comments.len(), 1);
    assert_eq!(tops.comments[0].reply_count, 2);
    assert!(tops.comments[0].liked_by_me);
    let replies = env
        .client
        .list_comments(as_user(
            &ana,
            pb::ListCommentsRequest { post_id: created.post_id.clone(), parent_comment_id: top.comment_id.clone(), ..Default::default() },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replies.comments.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(), vec!["thanks", "again"], "oldest first");
    let post = env
        .client
        .get_post(as_user(&ana, pb::GetPostRequest { post_id: created.post_id.clone() }))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(post.comment_count, 3);

    // The post's author may delete any comment on it; replies go with their parent.
    env.client.delete_comment(as_user(&ana, pb::DeleteCommentRequest { comment_id: top.comment_id.clone() })).await.unwrap();
    let post = env
        .client
        .get_post(as_user(&ana, pb::GetPostRequest { post_id: created.post_id.clone() }))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert_eq!(post.comment_count, 0);
    let stranger = token_user(&env.keys, &["user"]);
    let c = env.client.create_comment(as_user(&bob, comment("", "mine"))).await.unwrap().into_inner().comment.unwrap();
    let denied = env.client.delete_comment(as_user(&stranger, pb::DeleteCommentRequest { comment_id: c.comment_id })).await.unwrap_err();
    assert_status(&denied, Code::PermissionDenied, None);
}

#[tokio::test]
async fn search_by_words_and_tags_and_trending_on_demand() {
    let mut env = start().await;
    let ana = token_user(&env.keys, &["user"]);
    let readers: Vec<Account> = (0..3).map(|_| token_user(&env.keys, &["user"])).collect();
    let squat = create(&mut env, &ana, post("Heavy squats and deadlifts today #legday")).await;
    let run = create(&mut env, &ana, post("Easy morning running #cardio")).await;
    let hits = env
        .client
        .search_posts(as_user(&readers[0], pb::SearchPostsRequest { query: "squat".into(), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(hits.posts.iter().map(|p| p.post_id.clone()).collect::<Vec<_>>(), vec![squat.post_id.clone()], "stemmed full-text match");
    let tagged = env
        .client
        .search_posts(as_user(&readers[0], pb::SearchPostsRequest { tags: vec!["#Cardio".into()], ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tagged.posts.iter().map(|p| p.post_id.clone()).collect::<Vec<_>>(), vec![run.post_id.clone()]);

    for r in &readers {
        env.client.like_post(as_user(r, pb::LikePostRequest { post_id: squat.post_id.clone() })).await.unwrap();
    }
    // squat: three likes and one commenter (3 + 3); run: one commenter writing three times
    // (3, not 9: further comments by the same user add nothing).
    let comment = |post_id: &str| pb::CreateCommentRequest {
        post_id: post_id.into(),
        text: "go".into(),
        request_id: unique("c"),
        ..Default::default()
    };
    env.client.create_comment(as_user(&readers[1], comment(&squat.post_id))).await.unwrap();
    for _ in 0..3 {
        env.client.create_comment(as_user(&readers[0], comment(&run.post_id))).await.unwrap();
    }
    tribe_content::trending::recompute(&env.db.pool, &tribe_content::trending::WINDOWS, chrono::Utc::now()).await.unwrap();
    let trending =
        env.client.list_trending_posts(as_user(&readers[1], pb::ListTrendingPostsRequest::default())).await.unwrap().into_inner();
    let order: Vec<String> = trending.posts.iter().map(|t| t.post.as_ref().unwrap().post_id.clone()).collect();
    assert_eq!(order, vec![squat.post_id.clone(), run.post_id.clone()], "likes plus a commenter outweigh one repeated commenter");
    assert!(trending.posts[0].score > trending.posts[1].score && trending.posts[1].score > 0.0);
    let tags = env.client.list_trending_tags(as_user(&readers[1], pb::ListTrendingTagsRequest::default())).await.unwrap().into_inner();
    assert_eq!(tags.tags.iter().map(|t| t.tag.as_str()).collect::<Vec<_>>(), vec!["legday"], "only tags with three engaged users");
    assert_eq!(tags.tags[0].engaged_user_count, 4);
    assert_eq!(tags.tags[0].post_count, 1);
}
