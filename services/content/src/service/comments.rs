//! Comments and one level of replies.

use prost::Message;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use super::posts::id_cursor;
use super::{ContentService, emit, post_not_found};
use crate::convert;
use crate::domain::{self, PostKind, Viewer};
use crate::limits::Action;
use crate::store::comments::{self, CommentRow, NewComment};
use crate::store::{graph, posts};

const CREATE_METHOD: &str = "/trainertribe.content.v1.ContentService/CreateComment";
const LIST_METHOD: &str = "/trainertribe.content.v1.ContentService/ListComments";

impl ContentService {
    /// The post a comment belongs to; NOT_FOUND for unknown comments or comments hidden
    /// from the viewer by a block.
    pub(crate) async fn comment_post(
        &self,
        conn: &mut sqlx::PgConnection,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<Uuid, ApiError> {
        self.load_comment(conn, viewer, id).await.map(|c| c.post_id)
    }

    pub(crate) async fn load_comment(
        &self,
        conn: &mut sqlx::PgConnection,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<CommentRow, ApiError> {
        comments::visible(conn, viewer.id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("comment"))
    }

    pub(crate) async fn render_comments(&self, rows: Vec<CommentRow>) -> Vec<pb::Comment> {
        let authors = self.authors(rows.iter().map(|r| r.author_id)).await;
        rows.into_iter()
            .map(|r| {
                let CommentRow {
                    id,
                    post_id,
                    parent_id,
                    author_id,
                    text,
                    like_count,
                    reply_count,
                    created_at,
                    liked_by_me,
                } = r;
                pb::Comment {
                    comment_id: id.to_string(),
                    post_id: post_id.to_string(),
                    parent_comment_id: parent_id.map(|p| p.to_string()).unwrap_or_default(),
                    author: Some(
                        authors
                            .get(&author_id)
                            .cloned()
                            .unwrap_or_else(|| convert::bare_summary(author_id)),
                    ),
                    text,
                    like_count,
                    liked_by_me,
                    reply_count,
                    create_time: convert::timestamp(created_at),
                }
            })
            .collect()
    }

    pub async fn create_comment(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateCommentRequest,
    ) -> Result<pb::CreateCommentResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let post_id = v.check("post_id", ids::parse_id("post_id", &req.post_id));
        let parent = if req.parent_comment_id.is_empty() {
            None
        } else {
            v.check(
                "parent_comment_id",
                ids::parse_id("parent_comment_id", &req.parent_comment_id),
            )
        };
        domain::check_comment_text(&mut v, &req.text);
        if ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let post_id = post_id.ok_or_else(|| ApiError::invalid_field("post_id", "is required"))?;
        let params = pb::CreateCommentRequest {
            request_id: String::new(),
            ..req.clone()
        };
        let hash = idempotency::request_hash(&params.encode_to_vec());

        let mut tx = self.pool.begin().await?;
        if let Claim::Replay(bytes) = idempotency::claim(
            &mut tx,
            caller.subject(),
            CREATE_METHOD,
            &req.request_id,
            &hash,
        )
        .await?
        {
            return pb::CreateCommentResponse::decode(bytes.as_slice()).map_err(ApiError::internal);
        }
        let post = self.engageable(&mut tx, &viewer, post_id).await?;
        self.limits.hit(Action::Comment, caller.subject()).await?;
        // Threads are one level deep: a reply to a reply hangs off its top-level comment.
        let parent = match parent {
            None => None,
            Some(pid) => match comments::placement(&mut tx, pid).await? {
                Some((p, grand, author)) if p == post_id => {
                    let top = grand.unwrap_or(pid);
                    let top_author = if grand.is_some() {
                        comments::author(&mut tx, top).await?
                    } else {
                        author
                    };
                    Some((top, top_author))
                }
                _ => return Err(ApiError::not_found("parent comment")),
            },
        };
        let id = ids::new_id();
        let mentions = domain::parse_mentions(&req.text);
        comments::insert(
            &mut tx,
            &NewComment {
                id,
                post_id,
                parent_id: parent.map(|p| p.0),
                author_id: viewer.id,
                text: &req.text,
                mentions: &mentions,
            },
        )
        .await?;
        let mentioned = graph::ids_by_handles(&mut tx, &mentions).await?;
        emit(
            &mut tx,
            post_id,
            viewer.id,
            Payload::CommentCreated(events::CommentCreated {
                comment_id: id.to_string(),
                post_id: post_id.to_string(),
                post_author_id: post.author_id.to_string(),
                author_id: viewer.id.to_string(),
                parent_comment_id: parent.map(|p| p.0.to_string()).unwrap_or_default(),
                parent_author_id: parent.map(|p| p.1.to_string()).unwrap_or_default(),
                mentioned_handles: mentions,
                mentioned_user_ids: mentioned.iter().map(Uuid::to_string).collect(),
            }),
        )
        .await?;
        let row = self.load_comment(&mut tx, &viewer, id).await?;
        let response = pb::CreateCommentResponse {
            comment: self.render_comments(vec![row]).await.pop(),
        };
        idempotency::complete(
            &mut tx,
            caller.subject(),
            CREATE_METHOD,
            &req.request_id,
            &response.encode_to_vec(),
        )
        .await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_comments(
        &self,
        caller: &UserPrincipal,
        req: pb::ListCommentsRequest,
    ) -> Result<pb::ListCommentsResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let post_id = v.check("post_id", ids::parse_id("post_id", &req.post_id));
        let parent = if req.parent_comment_id.is_empty() {
            None
        } else {
            v.check(
                "parent_comment_id",
                ids::parse_id("parent_comment_id", &req.parent_comment_id),
            )
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let (Some(post_id), Some(limit)) = (post_id, limit) else {
            return Err(ApiError::invalid_field("post_id", "is required"));
        };
        let hash = FilterHash::new()
            .add("post_id", post_id.as_bytes())
            .add("parent", parent.unwrap_or_default().as_bytes())
            .finish();
        let scope = PageScope {
            method: LIST_METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = id_cursor(self.pages.decode(scope, &req.page_token)?)?;

        let mut conn = self.pool.acquire().await?;
        let post = posts::visible(&mut conn, &viewer, &[post_id])
            .await?
            .pop()
            .ok_or_else(post_not_found)?;
        if post.kind == PostKind::Premium && !viewer.premium_for(post.author_id) {
            return Err(ApiError::rejected(
                tonic::Code::PermissionDenied,
                "PREMIUM_REQUIRED",
                "this post needs a premium subscription",
            ));
        }
        if let Some(pid) = parent
            && !comments::is_top_level_on(&mut conn, pid, post_id).await?
        {
            return Err(ApiError::not_found("parent comment"));
        }
        let mut rows = comments::page(
            &mut conn,
            viewer.id,
            post_id,
            parent,
            after,
            limit as i64 + 1,
        )
        .await?;
        drop(conn);
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r| {
                vec![Key::Str(r.id.to_string())]
            });
        Ok(pb::ListCommentsResponse {
            comments: self.render_comments(rows).await,
            next_page_token: token,
        })
    }

    pub async fn delete_comment(
        &self,
        caller: &UserPrincipal,
        req: pb::DeleteCommentRequest,
    ) -> Result<pb::DeleteCommentResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let id = ids::parse_id("comment_id", &req.comment_id)?;
        let mut tx = self.pool.begin().await?;
        let comment = self.load_comment(&mut tx, &viewer, id).await?;
        let post = posts::lock(&mut tx, viewer.id, comment.post_id)
            .await?
            .ok_or_else(|| ApiError::not_found("comment"))?;
        if !(comment.author_id == viewer.id || post.author_id == viewer.id || viewer.admin) {
            return Err(ApiError::permission_denied(
                "only the comment's author, the post's author or an admin may delete it",
            ));
        }
        // Replies go with a top-level comment (ON DELETE CASCADE).
        comments::delete(&mut tx, &comment).await?;
        tx.commit().await?;
        Ok(pb::DeleteCommentResponse {})
    }
}
