//! Reports and moderation through the API, beside the ownership rules they complete: only
//! authors edit or delete a post, only admins moderate and read the report queue; a report
//! is filed once, a HIDE closes it and the author still sees why.

use crate::common::*;
use tonic::Code;
use tribe_proto::content::v1 as pb;

#[tokio::test]
async fn only_authors_change_posts_and_only_admins_moderate() {
    let mut env = start().await;
    let ana = env.token_user(&["user"]);
    let bob = env.token_user(&["user"]);
    let admin = env.token_user(&["user", "admin"]);
    let created = env.create(&ana, post("mine #mine")).await;

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
    let status = env.delete_post(&bob, &created.post_id).await.unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let status = env
        .moderate(&bob, &created.post_id, pb::ModerationAction::Remove, "spam")
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

    let unchanged = env.get_post(&ana, &created.post_id).await.unwrap();
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
        .moderate(&admin, &created.post_id, pb::ModerationAction::Hide, "spam")
        .await
        .unwrap();
    assert_eq!(hidden.moderation_state, pb::ModerationState::Hidden as i32);
    let gone = env.get_post(&bob, &created.post_id).await.unwrap_err();
    assert_status(&gone, Code::NotFound, None);
    let author_view = env.get_post(&ana, &created.post_id).await.unwrap();
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
    env.delete_post(&ana, &created.post_id).await.unwrap();
    let status = env.delete_post(&ana, &created.post_id).await.unwrap_err();
    assert_status(&status, Code::NotFound, None);
}
