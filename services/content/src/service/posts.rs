//! Publishing, reading, editing and deleting posts.

use prost::Message;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use super::{ContentService, bad_token, emit, post_not_found};
use crate::domain::{self, ModerationState, PostKind, Viewer};
use crate::limits::Action;
use crate::store::{graph, posts};
use crate::timeline::Entry;

const CREATE_METHOD: &str = "/trainertribe.content.v1.ContentService/CreatePost";
const LIST_USER_POSTS: &str = "/trainertribe.content.v1.ContentService/ListUserPosts";
const MAX_BATCH: usize = 500;

/// Cursor of id-ordered lists.
pub(crate) fn id_cursor(keys: Option<Vec<Key>>) -> Result<Option<Uuid>, ApiError> {
    match keys.as_deref() {
        None => Ok(None),
        Some([Key::Str(id)]) => Uuid::parse_str(id).map(Some).map_err(|_| bad_token()),
        Some(_) => Err(bad_token()),
    }
}

impl ContentService {
    pub async fn create_post(
        &self,
        caller: &UserPrincipal,
        req: pb::CreatePostRequest,
    ) -> Result<pb::CreatePostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let post = req.post.clone().unwrap_or_default();
        let kind = match pb::PostType::try_from(post.r#type) {
            Ok(pb::PostType::Unspecified) => {
                v.add("post.type", "is required");
                None
            }
            Ok(t) => PostKind::from_proto(t as i32),
            Err(_) => {
                v.add("post.type", "unknown post type");
                None
            }
        };
        let visibility = self
            .rules
            .visibility(&mut v, "post.visibility", post.visibility);
        self.rules.check_text(&mut v, "post.text", &post.text);
        let media = self.rules.media(&mut v, "post.media", &post.media);
        if post.text.trim().is_empty() && post.media.is_empty() {
            v.add("post.text", "a post needs text or media");
        }
        if ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let (Some(kind), Some(visibility)) = (kind, visibility) else {
            return Err(ApiError::invalid_field("post.type", "is required"));
        };
        if kind != PostKind::Regular && !(caller.has_role(Role::Trainer) || caller.is_admin()) {
            return Err(ApiError::rejected(
                tonic::Code::PermissionDenied,
                "TRAINER_REQUIRED",
                "only trainers publish premium and trainer posts",
            ));
        }

        // The request's meaningful parameters, for detecting a reused request_id.
        let params = pb::Post {
            text: post.text.clone(),
            r#type: post.r#type,
            visibility: post.visibility,
            media: post.media.clone(),
            ..Default::default()
        };
        let hash = idempotency::request_hash(&params.encode_to_vec());
        let tags = domain::parse_tags(&post.text);
        let mentions = domain::parse_mentions(&post.text);
        let media_json = serde_json::to_string(&media).map_err(ApiError::internal)?;

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
            return pb::CreatePostResponse::decode(bytes.as_slice()).map_err(ApiError::internal);
        }
        // Replays above are free; only a fresh publication counts.
        self.limits.hit(Action::Post, caller.subject()).await?;
        let id = ids::new_id();
        posts::insert(
            &mut tx,
            &posts::NewPost {
                id,
                author_id: viewer.id,
                text: &post.text,
                tags: &tags,
                mentions: &mentions,
                kind,
                visibility,
                media_json: &media_json,
            },
        )
        .await?;
        let mentioned = graph::ids_by_handles(&mut tx, &mentions).await?;
        emit(
            &mut tx,
            id,
            viewer.id,
            Payload::PostCreated(events::PostCreated {
                post_id: id.to_string(),
                author_id: viewer.id.to_string(),
                visibility: visibility.number(),
                r#type: kind.number(),
                tags: tags.clone(),
                mentioned_handles: mentions.clone(),
                mentioned_user_ids: mentioned.iter().map(Uuid::to_string).collect(),
                media_count: media.len() as i32,
            }),
        )
        .await?;
        let row = posts::any(&mut tx, viewer.id, id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("inserted post vanished")))?;
        let response = pb::CreatePostResponse {
            post: Some(self.render_one(&viewer, row).await),
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
        self.own_timelines(Entry {
            post_id: id,
            author_id: viewer.id,
        })
        .await;
        Ok(response)
    }

    pub async fn get_post(
        &self,
        caller: &UserPrincipal,
        req: pb::GetPostRequest,
    ) -> Result<pb::GetPostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let id = ids::parse_id("post_id", &req.post_id)?;
        let mut conn = self.pool.acquire().await?;
        let row = self
            .hydrate(&mut conn, &viewer, &[id])
            .await?
            .pop()
            .ok_or_else(post_not_found)?;
        drop(conn);
        Ok(pb::GetPostResponse {
            post: Some(self.render_one(&viewer, row).await),
        })
    }

    /// Loads a post for a change by its author: NOT_FOUND when the caller cannot see it,
    /// PERMISSION_DENIED when they can but are not its author.
    async fn own_post(
        &self,
        conn: &mut sqlx::PgConnection,
        viewer: &Viewer,
        id: Uuid,
    ) -> Result<posts::PostRow, ApiError> {
        let row = posts::lock(conn, viewer.id, id)
            .await?
            .ok_or_else(post_not_found)?;
        if row.author_id != viewer.id {
            let visible = !posts::visible(conn, viewer, &[id]).await?.is_empty();
            return Err(if visible {
                ApiError::permission_denied("only the author may change a post")
            } else {
                post_not_found()
            });
        }
        Ok(row)
    }

    pub async fn update_post(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdatePostRequest,
    ) -> Result<pb::UpdatePostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mask = UpdateMask::parse(req.update_mask.as_ref(), &["text", "visibility", "media"])?;
        let post = req.post.unwrap_or_default();
        let mut v = Violations::new();
        let id = v.check("post.post_id", ids::parse_id("post.post_id", &post.post_id));
        let visibility = if mask.contains("visibility") {
            self.rules
                .visibility(&mut v, "post.visibility", post.visibility)
        } else {
            None
        };
        if mask.contains("text") {
            self.rules.check_text(&mut v, "post.text", &post.text);
        }
        let media = if mask.contains("media") {
            Some(self.rules.media(&mut v, "post.media", &post.media))
        } else {
            None
        };
        v.finish()?;
        let id = id.ok_or_else(|| ApiError::invalid_field("post.post_id", "is required"))?;

        let mut tx = self.pool.begin().await?;
        let current = self.own_post(&mut tx, &viewer, id).await?;
        if current.moderation == ModerationState::Removed {
            return Err(ApiError::failed_precondition(
                "POST_REMOVED",
                "a removed post cannot be edited",
            ));
        }
        let text = if mask.contains("text") {
            post.text.clone()
        } else {
            current.text.clone()
        };
        let current_media: Vec<domain::MediaItem> =
            serde_json::from_str(&current.media).unwrap_or_default();
        let media_count = media.as_ref().map_or(current_media.len(), Vec::len);
        if text.trim().is_empty() && media_count == 0 {
            return Err(ApiError::invalid_field(
                "post.text",
                "a post needs text or media",
            ));
        }
        let tags = domain::parse_tags(&text);
        let mentions = domain::parse_mentions(&text);
        let new_mentions: Vec<String> = mentions
            .iter()
            .filter(|m| !current.mentions.contains(m))
            .cloned()
            .collect();
        let text_changed = mask.contains("text") && text != current.text;
        let media_changed = media.is_some();
        let media_json = match &media {
            Some(m) => serde_json::to_string(m).map_err(ApiError::internal)?,
            None => current.media.clone(),
        };
        let visibility = visibility.unwrap_or(current.visibility);
        sqlx::query(
            "UPDATE posts SET text = $2, tags = $3, mentions = $4, visibility = $5, media = $6::jsonb,
                    edited = edited OR $7, updated_at = now() WHERE id = $1",
        )
        .bind(id)
        .bind(&text)
        .bind(&tags)
        .bind(&mentions)
        .bind(visibility)
        .bind(&media_json)
        .bind(text_changed || media_changed)
        .execute(&mut *tx)
        .await?;
        let mentioned = graph::ids_by_handles(&mut tx, &new_mentions).await?;
        emit(
            &mut tx,
            id,
            viewer.id,
            Payload::PostUpdated(events::PostUpdated {
                post_id: id.to_string(),
                author_id: viewer.id.to_string(),
                changed_fields: mask.paths().map(str::to_string).collect(),
                visibility: visibility.number(),
                tags,
                new_mentioned_handles: new_mentions,
                new_mentioned_user_ids: mentioned.iter().map(Uuid::to_string).collect(),
                media_count: media_count as i32,
            }),
        )
        .await?;
        let row = posts::any(&mut tx, viewer.id, id)
            .await?
            .ok_or_else(post_not_found)?;
        tx.commit().await?;
        // After the commit: a read in between may cache the old body again, but it carries
        // the old updated_at and is refused by every later read.
        self.cache.forget_post(id).await;
        Ok(pb::UpdatePostResponse {
            post: Some(self.render_one(&viewer, row).await),
        })
    }

    pub async fn delete_post(
        &self,
        caller: &UserPrincipal,
        req: pb::DeletePostRequest,
    ) -> Result<pb::DeletePostResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let id = ids::parse_id("post_id", &req.post_id)?;
        let mut tx = self.pool.begin().await?;
        self.own_post(&mut tx, &viewer, id).await?;
        // Likes, comments and reports go with it (ON DELETE CASCADE).
        sqlx::query("DELETE FROM posts WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        emit(
            &mut tx,
            id,
            viewer.id,
            Payload::PostDeleted(events::PostDeleted {
                post_id: id.to_string(),
                author_id: viewer.id.to_string(),
            }),
        )
        .await?;
        tx.commit().await?;
        self.cache.forget_post(id).await;
        if let Err(err) = self
            .timelines
            .remove_post(
                &[viewer.id],
                Entry {
                    post_id: id,
                    author_id: viewer.id,
                },
            )
            .await
        {
            tracing::warn!(
                error = format!("{err:#}"),
                "removing a deleted post from the author's timelines failed; fan-out will retry"
            );
        }
        Ok(pb::DeletePostResponse {})
    }

    pub async fn list_user_posts(
        &self,
        caller: &UserPrincipal,
        req: pb::ListUserPostsRequest,
    ) -> Result<pb::ListUserPostsResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let author = v.check("user_id", ids::parse_id("user_id", &req.user_id));
        // UNSPECIFIED lists every kind.
        let kind = match pb::PostType::try_from(req.r#type) {
            Ok(t) => PostKind::from_proto(t as i32),
            Err(_) => {
                v.add("type", "unknown post type");
                None
            }
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let (Some(author), Some(limit)) = (author, limit) else {
            return Err(ApiError::invalid_field("user_id", "is required"));
        };
        let hash = FilterHash::new()
            .add("user_id", author.as_bytes())
            .add("type", kind.map_or(0, i16::from).to_be_bytes())
            .finish();
        let scope = PageScope {
            method: LIST_USER_POSTS,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let before = id_cursor(self.pages.decode(scope, &req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        if !viewer.admin
            && author != viewer.id
            && graph::blocked_either_way(&mut conn, viewer.id, author).await?
        {
            return Err(ApiError::not_found("user"));
        }
        let mut states =
            posts::by_author(&mut conn, &viewer, author, kind, before, limit as i64 + 1).await?;
        let token = self
            .pages
            .next_token(scope, &mut states, limit as usize, |r| {
                vec![Key::Str(r.id.to_string())]
            });
        let rows = self.with_bodies(&mut conn, states).await?;
        drop(conn);
        Ok(pb::ListUserPostsResponse {
            posts: self.render(&viewer, rows).await,
            next_page_token: token,
        })
    }

    pub async fn batch_get_posts(
        &self,
        req: pb::BatchGetPostsRequest,
    ) -> Result<pb::BatchGetPostsResponse, ApiError> {
        if req.post_ids.len() > MAX_BATCH {
            return Err(ApiError::invalid_field(
                "post_ids",
                format!("at most {MAX_BATCH} ids"),
            ));
        }
        let mut v = Violations::new();
        let mut wanted = Vec::new();
        for (i, raw) in req.post_ids.iter().enumerate() {
            match Uuid::try_parse(raw) {
                Ok(id) if !wanted.contains(&id) => wanted.push(id),
                Ok(_) => {}
                Err(_) => v.add(format!("post_ids[{i}]"), "is not a valid id"),
            }
        }
        let viewer = if req.viewer_id.is_empty() {
            Viewer::system()
        } else {
            let id = v.check("viewer_id", ids::parse_id("viewer_id", &req.viewer_id));
            let tier = tribe_proto::r#type::v1::SubscriptionTier::try_from(req.viewer_tier)
                .unwrap_or_default();
            use tribe_proto::r#type::v1::SubscriptionTier as T;
            Viewer {
                id: id.unwrap_or_default(),
                admin: false,
                premium: matches!(tier, T::Premium | T::Pro),
                privileged: true,
            }
        };
        v.finish()?;
        let mut conn = self.pool.acquire().await?;
        let rows = self.hydrate(&mut conn, &viewer, &wanted).await?;
        drop(conn);
        Ok(pb::BatchGetPostsResponse {
            posts: self.render(&viewer, rows).await,
        })
    }
}
