//! Likes on posts and comments: idempotent, counted once however often or concurrently
//! they are repeated (the primary key decides, the counter follows it in the same
//! transaction).

use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, ids};
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use super::{ContentService, emit, post_not_found};
use crate::domain::{MOD_REMOVED, TYPE_PREMIUM, Viewer};
use crate::store::posts::{self, PostRow};

impl ContentService {
    /// The post `viewer` acts on: NOT_FOUND if they may not see it, PREMIUM_REQUIRED if
    /// it is locked for them, POST_REMOVED if taken down.
    pub(crate) async fn engageable(&self, conn: &mut sqlx::PgConnection, viewer: &Viewer, id: Uuid) -> Result<PostRow, ApiError> {
        let row = posts::visible(conn, viewer, &[id]).await?.pop().ok_or_else(post_not_found)?;
        if row.kind == TYPE_PREMIUM && !viewer.premium_for(row.author_id) {
            return Err(ApiError::rejected(tonic::Code::PermissionDenied, "PREMIUM_REQUIRED", "this post needs a premium subscription"));
        }
        if row.moderation == MOD_REMOVED {
            return Err(ApiError::failed_precondition("POST_REMOVED", "the post was removed by a moderator"));
        }
        Ok(row)
    }

    pub async fn like_post(&self, caller: &UserPrincipal, req: pb::LikePostRequest) -> Result<pb::LikePostResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let id = ids::parse_id("post_id", &req.post_id)?;
        let mut tx = self.pool.begin().await?;
        let row = self.engageable(&mut tx, &viewer, id).await?;
        let inserted = sqlx::query("INSERT INTO post_likes (post_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(viewer.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if inserted {
            sqlx::query("UPDATE posts SET like_count = like_count + 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
            emit(
                &mut tx,
                id,
                viewer.id,
                Payload::PostLiked(events::PostLiked {
                    post_id: id.to_string(),
                    author_id: row.author_id.to_string(),
                    user_id: viewer.id.to_string(),
                }),
            )
            .await?;
        }
        let row = posts::any(&mut tx, viewer.id, id).await?.ok_or_else(post_not_found)?;
        tx.commit().await?;
        Ok(pb::LikePostResponse { post: Some(self.render_one(&viewer, row).await) })
    }

    pub async fn unlike_post(&self, caller: &UserPrincipal, req: pb::UnlikePostRequest) -> Result<pb::UnlikePostResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let id = ids::parse_id("post_id", &req.post_id)?;
        let mut tx = self.pool.begin().await?;
        let row = posts::visible(&mut tx, &viewer, &[id]).await?.pop().ok_or_else(post_not_found)?;
        let removed = sqlx::query("DELETE FROM post_likes WHERE post_id = $1 AND user_id = $2")
            .bind(id)
            .bind(viewer.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            sqlx::query("UPDATE posts SET like_count = like_count - 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
            emit(
                &mut tx,
                id,
                viewer.id,
                Payload::PostUnliked(events::PostUnliked {
                    post_id: id.to_string(),
                    author_id: row.author_id.to_string(),
                    user_id: viewer.id.to_string(),
                }),
            )
            .await?;
        }
        let row = posts::any(&mut tx, viewer.id, id).await?.ok_or_else(post_not_found)?;
        tx.commit().await?;
        Ok(pb::UnlikePostResponse { post: Some(self.render_one(&viewer, row).await) })
    }

    pub async fn like_comment(&self, caller: &UserPrincipal, req: pb::LikeCommentRequest) -> Result<pb::LikeCommentResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let id = ids::parse_id("comment_id", &req.comment_id)?;
        let mut tx = self.pool.begin().await?;
        let post_id = self.comment_post(&mut tx, &viewer, id).await?;
        self.engageable(&mut tx, &viewer, post_id).await?;
        let inserted = sqlx::query("INSERT INTO comment_likes (comment_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(viewer.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if inserted {
            sqlx::query("UPDATE comments SET like_count = like_count + 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        let comment = self.load_comment(&mut tx, &viewer, id).await?;
        tx.commit().await?;
        Ok(pb::LikeCommentResponse { comment: Some(self.render_comments(vec![comment]).await.pop().unwrap_or_default()) })
    }

    pub async fn unlike_comment(
        &self,
        caller: &UserPrincipal,
        req: pb::UnlikeCommentRequest,
    ) -> Result<pb::UnlikeCommentResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let id = ids::parse_id("comment_id", &req.comment_id)?;
        let mut tx = self.pool.begin().await?;
        let post_id = self.comment_post(&mut tx, &viewer, id).await?;
        posts::visible(&mut tx, &viewer, &[post_id]).await?.pop().ok_or_else(|| ApiError::not_found("comment"))?;
        let removed = sqlx::query("DELETE FROM comment_likes WHERE comment_id = $1 AND user_id = $2")
            .bind(id)
            .bind(viewer.id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            sqlx::query("UPDATE comments SET like_count = like_count - 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
        }
        let comment = self.load_comment(&mut tx, &viewer, id).await?;
        tx.commit().await?;
        Ok(pb::UnlikeCommentResponse { comment: Some(self.render_comments(vec![comment]).await.pop().unwrap_or_default()) })
    }
}
