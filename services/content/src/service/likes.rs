//! Likes on posts and comments: idempotent, counted once however often or concurrently
//! they are repeated (the primary key decides, the counter follows it in the same
//! transaction; `store::likes`).

use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, ids};
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use super::{ContentService, emit, post_not_found};
use crate::domain::{ModerationState, PostKind, Viewer};
use crate::store::likes;
use crate::store::posts::{self, PostRow};

impl ContentService {
    /// The post `viewer` acts on: NOT_FOUND if they may not see it, PREMIUM_REQUIRED if
    /// it is locked for them, POST_REMOVED if taken down.
    pub(crate) async fn engageable(
        &self,
        conn: &mut sqlx::PgConnection,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<PostRow, ApiError> {
        let row = posts::visible(conn, viewer, &[id])
            .await?
            .pop()
            .ok_or_else(post_not_found)?;
        if row.kind == PostKind::Premium && !viewer.premium_for(row.author_id) {
            return Err(ApiError::rejected(
                tonic::Code::PermissionDenied,
                "PREMIUM_REQUIRED",
                "this post needs a premium subscription",
            ));
        }
        if row.moderation == ModerationState::Removed {
            return Err(ApiError::failed_precondition(
                "POST_REMOVED",
                "the post was removed by a moderator",
            ));
        }
        Ok(row)
    }

    pub async fn like_post(
        &self,
        caller: &UserPrincipal,
        req: pb::LikePostRequest,
    ) -> Result<pb::LikePostResponse, ApiError> {
        Ok(pb::LikePostResponse {
            post: Some(self.set_post_like(caller, &req.post_id, true).await?),
        })
    }

    pub async fn unlike_post(
        &self,
        caller: &UserPrincipal,
        req: pb::UnlikePostRequest,
    ) -> Result<pb::UnlikePostResponse, ApiError> {
        Ok(pb::UnlikePostResponse {
            post: Some(self.set_post_like(caller, &req.post_id, false).await?),
        })
    }

    pub async fn like_comment(
        &self,
        caller: &UserPrincipal,
        req: pb::LikeCommentRequest,
    ) -> Result<pb::LikeCommentResponse, ApiError> {
        Ok(pb::LikeCommentResponse {
            comment: Some(self.set_comment_like(caller, &req.comment_id, true).await?),
        })
    }

    pub async fn unlike_comment(
        &self,
        caller: &UserPrincipal,
        req: pb::UnlikeCommentRequest,
    ) -> Result<pb::UnlikeCommentResponse, ApiError> {
        Ok(pb::UnlikeCommentResponse {
            comment: Some(
                self.set_comment_like(caller, &req.comment_id, false)
                    .await?,
            ),
        })
    }

    /// Likes (`like`) or unlikes a post. Liking needs an engageable post; unliking only a
    /// visible one (a like on a post that became premium or removed can still be taken
    /// back). The counter and the event follow the row actually inserted or deleted.
    async fn set_post_like(
        &self,
        caller: &UserPrincipal,
        post_id: &str,
        like: bool,
    ) -> Result<pb::Post, ApiError> {
        let viewer = Viewer::of(caller);
        let id = ids::parse_id("post_id", post_id)?;
        let mut tx = self.pool.begin().await?;
        let row = if like {
            self.engageable(&mut tx, &viewer, id).await?
        } else {
            posts::visible(&mut tx, &viewer, &[id])
                .await?
                .pop()
                .ok_or_else(post_not_found)?
        };
        if likes::set_post(&mut tx, id, viewer.id, like).await? {
            let (post_id, author_id, user_id) = (
                id.to_string(),
                row.author_id.to_string(),
                viewer.id.to_string(),
            );
            let payload = if like {
                Payload::PostLiked(events::PostLiked {
                    post_id,
                    author_id,
                    user_id,
                })
            } else {
                Payload::PostUnliked(events::PostUnliked {
                    post_id,
                    author_id,
                    user_id,
                })
            };
            emit(&mut tx, id, viewer.id, payload).await?;
        }
        let row = posts::any(&mut tx, viewer.id, id)
            .await?
            .ok_or_else(post_not_found)?;
        tx.commit().await?;
        Ok(self.render_one(&viewer, row).await)
    }

    /// Likes or unlikes a comment, under the same rules as its post.
    async fn set_comment_like(
        &self,
        caller: &UserPrincipal,
        comment_id: &str,
        like: bool,
    ) -> Result<pb::Comment, ApiError> {
        let viewer = Viewer::of(caller);
        let id = ids::parse_id("comment_id", comment_id)?;
        let mut tx = self.pool.begin().await?;
        let post_id = self.comment_post(&mut tx, &viewer, id).await?;
        if like {
            self.engageable(&mut tx, &viewer, post_id).await?;
        } else {
            posts::visible(&mut tx, &viewer, &[post_id])
                .await?
                .pop()
                .ok_or_else(|| ApiError::not_found("comment"))?;
        }
        likes::set_comment(&mut tx, id, viewer.id, like).await?;
        let comment = self.load_comment(&mut tx, &viewer, id).await?;
        tx.commit().await?;
        Ok(self
            .render_comments(vec![comment])
            .await
            .pop()
            .unwrap_or_default())
    }
}
