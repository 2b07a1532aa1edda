//! Comments through the API: one level of replies (a reply to a reply joins its thread),
//! comment likes and deletion rights.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn comments_replies_and_comment_likes() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let bob = env.token_user(&["user"]);
    let created = env.create(&ana, post("comment here")).await;
    let comment = |parent: &str, text: &str| pb::CreateCommentRequest {
        post_id: created.post_id.clone(),
        parent_comment_id: parent.into(),
        text: text.into(),
        request_id: unique("c"),
    };
    let top = env
        .client
        .create_comment(as_user(&bob, comment("", "nice")))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    let reply = env
        .client
        .create_comment(as_user(&ana, comment(&top.comment_id, "thanks")))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    let nested = env
        .client
        .create_comment(as_user(&bob, comment(&reply.comment_id, "again")))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    assert_eq!(
        nested.parent_comment_id, top.comment_id,
        "a reply to a reply hangs off the top-level comment"
    );
    let empty = env
        .client
        .create_comment(as_user(&bob, comment("", "   ")))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&empty), vec!["text"]);

    let liked = env
        .client
        .like_comment(as_user(
            &ana,
            pb::LikeCommentRequest {
                comment_id: top.comment_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    assert_eq!(liked.like_count, 1);
    let tops = env
        .client
        .list_comments(as_user(
            &ana,
            pb::ListCommentsRequest {
                post_id: created.post_id.clone(),
                ..Default::default()
            },
        ))
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
            pb::ListCommentsRequest {
                post_id: created.post_id.clone(),
                parent_comment_id: top.comment_id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        replies
            .comments
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>(),
        vec!["thanks", "again"],
        "oldest first"
    );
    let post = env.get_post(&ana, &created.post_id).await.unwrap();
    assert_eq!(post.comment_count, 3);

    // The post's author may delete any comment on it; replies go with their parent.
    env.client
        .delete_comment(as_user(
            &ana,
            pb::DeleteCommentRequest {
                comment_id: top.comment_id.clone(),
            },
        ))
        .await
        .unwrap();
    let post = env.get_post(&ana, &created.post_id).await.unwrap();
    assert_eq!(post.comment_count, 0);
    let stranger = env.token_user(&["user"]);
    let c = env
        .client
        .create_comment(as_user(&bob, comment("", "mine")))
        .await
        .unwrap()
        .into_inner()
        .comment
        .unwrap();
    let denied = env
        .client
        .delete_comment(as_user(
            &stranger,
            pb::DeleteCommentRequest {
                comment_id: c.comment_id,
            },
        ))
        .await
        .unwrap_err();
    assert_status(&denied, Code::PermissionDenied, None);
}
