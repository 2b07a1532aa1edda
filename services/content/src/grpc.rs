//! The generated `ContentService` trait: identify the caller, call the use-case, map errors
//! (the only place an `ApiError` becomes a `Status`, through the kit's `as_user!` /
//! `as_service!`).

use tonic::{Request, Response, Status};
use tribe_kit::{as_service, as_user};
use tribe_proto::content::v1 as pb;
use tribe_proto::content::v1::content_service_server::ContentService as Api;

use crate::service::ContentService;

#[derive(Debug, Clone)]
pub struct ContentApi {
    svc: ContentService,
}

impl ContentApi {
    pub fn new(svc: ContentService) -> Self {
        Self { svc }
    }
}

type R<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl Api for ContentApi {
    async fn create_post(
        &self,
        request: Request<pb::CreatePostRequest>,
    ) -> R<pb::CreatePostResponse> {
        as_user!(self, request, create_post)
    }

    async fn get_post(&self, request: Request<pb::GetPostRequest>) -> R<pb::GetPostResponse> {
        as_user!(self, request, get_post)
    }

    async fn update_post(
        &self,
        request: Request<pb::UpdatePostRequest>,
    ) -> R<pb::UpdatePostResponse> {
        as_user!(self, request, update_post)
    }

    async fn delete_post(
        &self,
        request: Request<pb::DeletePostRequest>,
    ) -> R<pb::DeletePostResponse> {
        as_user!(self, request, delete_post)
    }

    async fn get_feed(&self, request: Request<pb::GetFeedRequest>) -> R<pb::GetFeedResponse> {
        as_user!(self, request, get_feed)
    }

    async fn list_user_posts(
        &self,
        request: Request<pb::ListUserPostsRequest>,
    ) -> R<pb::ListUserPostsResponse> {
        as_user!(self, request, list_user_posts)
    }

    async fn like_post(&self, request: Request<pb::LikePostRequest>) -> R<pb::LikePostResponse> {
        as_user!(self, request, like_post)
    }

    async fn unlike_post(
        &self,
        request: Request<pb::UnlikePostRequest>,
    ) -> R<pb::UnlikePostResponse> {
        as_user!(self, request, unlike_post)
    }

    async fn create_comment(
        &self,
        request: Request<pb::CreateCommentRequest>,
    ) -> R<pb::CreateCommentResponse> {
        as_user!(self, request, create_comment)
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> R<pb::ListCommentsResponse> {
        as_user!(self, request, list_comments)
    }

    async fn delete_comment(
        &self,
        request: Request<pb::DeleteCommentRequest>,
    ) -> R<pb::DeleteCommentResponse> {
        as_user!(self, request, delete_comment)
    }

    async fn like_comment(
        &self,
        request: Request<pb::LikeCommentRequest>,
    ) -> R<pb::LikeCommentResponse> {
        as_user!(self, request, like_comment)
    }

    async fn unlike_comment(
        &self,
        request: Request<pb::UnlikeCommentRequest>,
    ) -> R<pb::UnlikeCommentResponse> {
        as_user!(self, request, unlike_comment)
    }

    async fn list_trending_posts(
        &self,
        request: Request<pb::ListTrendingPostsRequest>,
    ) -> R<pb::ListTrendingPostsResponse> {
        as_user!(self, request, list_trending_posts)
    }

    async fn list_trending_tags(
        &self,
        request: Request<pb::ListTrendingTagsRequest>,
    ) -> R<pb::ListTrendingTagsResponse> {
        as_user!(self, request, list_trending_tags)
    }

    async fn search_posts(
        &self,
        request: Request<pb::SearchPostsRequest>,
    ) -> R<pb::SearchPostsResponse> {
        as_user!(self, request, search_posts)
    }

    async fn report_post(
        &self,
        request: Request<pb::ReportPostRequest>,
    ) -> R<pb::ReportPostResponse> {
        as_user!(self, request, report_post)
    }

    async fn list_post_reports(
        &self,
        request: Request<pb::ListPostReportsRequest>,
    ) -> R<pb::ListPostReportsResponse> {
        as_user!(self, request, list_post_reports)
    }

    async fn moderate_post(
        &self,
        request: Request<pb::ModeratePostRequest>,
    ) -> R<pb::ModeratePostResponse> {
        as_user!(self, request, moderate_post)
    }

    async fn batch_get_posts(
        &self,
        request: Request<pb::BatchGetPostsRequest>,
    ) -> R<pb::BatchGetPostsResponse> {
        as_service!(self, request, batch_get_posts)
    }
}
