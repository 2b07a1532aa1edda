//! Discovery: full-text and tag search, trending posts and tags (read from snapshots
//! written by `crate::trending`).

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::content::v1 as pb;
use uuid::Uuid;

use super::ContentService;
use crate::domain::{self, MOD_VISIBLE, Viewer};
use crate::store::posts;
use crate::trending;

const SEARCH: &str = "/trainertribe.content.v1.ContentService/SearchPosts";
const TRENDING_POSTS: &str = "/trainertribe.content.v1.ContentService/ListTrendingPosts";
const TRENDING_TAGS: &str = "/trainertribe.content.v1.ContentService/ListTrendingTags";
const MAX_QUERY_CHARS: usize = 200;
const MAX_SEARCH_TAGS: usize = 10;

fn bad_token() -> ApiError {
    ApiError::invalid_field("page_token", "malformed page token")
}

fn window(v: &mut Violations, raw: i32) -> i16 {
    match pb::TrendingWindow::try_from(raw) {
        Ok(pb::TrendingWindow::Unspecified) => pb::TrendingWindow::Day as i16,
        Ok(w) => w as i16,
        Err(_) => {
            v.add("window", "unknown window");
            0
        }
    }
}

impl ContentService {
    pub async fn search_posts(&self, caller: &UserPrincipal, req: pb::SearchPostsRequest) -> Result<pb::SearchPostsResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let mut v = Violations::new();
        let query = req.query.trim();
        if query.chars().count() > MAX_QUERY_CHARS {
            v.add("query", format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        if req.tags.len() > MAX_SEARCH_TAGS {
            v.add("tags", format!("at most {MAX_SEARCH_TAGS} tags"));
        }
        let mut tags = Vec::new();
        for (i, raw) in req.tags.iter().enumerate() {
            match domain::parse_search_tag(raw) {
                Some(t) if !tags.contains(&t) => tags.push(t),
                Some(_) => {}
                None => v.add(format!("tags[{i}]"), "is not a valid hashtag"),
            }
        }
        if query.is_empty() && req.tags.is_empty() {
            v.add("query", "set a query or at least one tag");
        }
        let by_relevance = match pb::SearchPostsOrder::try_from(req.order) {
            Ok(pb::SearchPostsOrder::Recent) => false,
            Ok(_) => true,
            Err(_) => {
                v.add("order", "unknown order");
                true
            }
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let mut sorted_tags = tags.clone();
        sorted_tags.sort();
        let hash = FilterHash::new()
            .add("query", query)
            .add("tags", sorted_tags.join(","))
            .add("order", [u8::from(by_relevance)])
            .add("premium", [u8::from(viewer.premium)])
            .finish();
        let scope = PageScope { method: SEARCH, subject_id: &caller.user_id, filter_hash: &hash };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(rank), Key::Str(id)]) => Some((*rank, Uuid::parse_str(id).map_err(|_| bad_token())?)),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let search = posts::Search {
            query: if query.is_empty() { None } else { Some(query) },
            tags: &tags,
            by_relevance,
            after,
            limit: limit as i64 + 1,
        };
        let mut found = posts::search(&mut conn, &viewer, &search).await?;
        let token = self.pages.next_token(scope, &mut found, limit, |(r, rank)| vec![Key::Float(*rank), Key::Str(r.id.to_string())]);
        let rows = self.with_bodies(&mut conn, found.into_iter().map(|(r, _)| r).collect()).await?;
        drop(conn);
        Ok(pb::SearchPostsResponse { posts: self.render(&viewer, rows).await, next_page_token: token })
    }

    /// The snapshot a trending list reads: pinned by the token, else the newest (computed
    /// now if there is none yet).
    async fn snapshot(&self, kind: &str, window: i16, pinned: Option<i64>) -> Result<i64, ApiError> {
        if let Some(id) = pinned {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM trending_snapshots WHERE id = $1)").bind(id).fetch_one(&self.pool).await?;
            if !exists {
                return Err(ApiError::invalid_reason("PAGE_TOKEN_EXPIRED", "page_token", "the trending snapshot of this token expired"));
            }
            return Ok(id);
        }
        match trending::latest(&self.pool, kind, window).await? {
            Some(id) => Ok(id),
            None => {
                trending::recompute(&self.pool, &[window], chrono::Utc::now()).await.map_err(ApiError::internal)?;
                trending::latest(&self.pool, kind, window).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no trending snapshot")))
            }
        }
    }

    pub async fn list_trending_posts(
        &self,
        caller: &UserPrincipal,
        req: pb::ListTrendingPostsRequest,
    ) -> Result<pb::ListTrendingPostsResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let mut v = Violations::new();
        let window = window(&mut v, req.window);
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let hash = FilterHash::new().add("window", window.to_be_bytes()).finish();
        let scope = PageScope { method: TRENDING_POSTS, subject_id: &caller.user_id, filter_hash: &hash };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(snapshot), Key::Float(score), Key::Str(id)]) => {
                Some((*snapshot, *score, Uuid::parse_str(id).map_err(|_| bad_token())?))
            }
            Some(_) => return Err(bad_token()),
        };
        let snapshot = self.snapshot("posts", window, after.map(|a| a.0)).await?;
        let (score, id) = after.map(|a| (a.1, a.2)).unwrap_or((f64::INFINITY, Uuid::max()));
        let mut ranked: Vec<(Uuid, f64)> = sqlx::query_as(
            "SELECT post_id, score FROM trending_posts WHERE snapshot_id = $1 AND (score < $2 OR (score = $2 AND post_id < $3))
             ORDER BY score DESC, post_id DESC LIMIT $4",
        )
        .bind(snapshot)
        .bind(score)
        .bind(id)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let token = self
            .pages
            .next_token(scope, &mut ranked, limit, |(id, score)| vec![Key::Int(snapshot), Key::Float(*score), Key::Str(id.to_string())]);
        let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
        let mut conn = self.pool.acquire().await?;
        // Still public and visible now, and visible to this reader.
        let states: Vec<_> = posts::states(&mut conn, &viewer, &ids)
            .await?
            .into_iter()
            .filter(|s| s.moderation == MOD_VISIBLE && s.visibility == domain::VIS_PUBLIC)
            .collect();
        let rows = self.with_bodies(&mut conn, states).await?;
        drop(conn);
        let posts = self.render(&viewer, rows).await;
        let scored = posts
            .into_iter()
            .map(|p| {
                let score = ranked.iter().find(|(id, _)| id.to_string() == p.post_id).map(|(_, s)| *s).unwrap_or_default();
                pb::TrendingPost { post: Some(p), score }
            })
            .collect();
        Ok(pb::ListTrendingPostsResponse { posts: scored, next_page_token: token })
    }

    pub async fn list_trending_tags(
        &self,
        caller: &UserPrincipal,
        req: pb::ListTrendingTagsRequest,
    ) -> Result<pb::ListTrendingTagsResponse, ApiError> {
        let mut v = Violations::new();
        let window = window(&mut v, req.window);
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let hash = FilterHash::new().add("window", window.to_be_bytes()).finish();
        let scope = PageScope { method: TRENDING_TAGS, subject_id: &caller.user_id, filter_hash: &hash };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(snapshot), Key::Float(score), Key::Str(tag)]) => Some((*snapshot, *score, tag.clone())),
            Some(_) => return Err(bad_token()),
        };
        let snapshot = self.snapshot("tags", window, after.as_ref().map(|a| a.0)).await?;
        let (score, tag) = after.map(|a| (a.1, a.2)).unwrap_or((f64::INFINITY, "\u{10FFFF}".into()));
        let mut rows: Vec<(String, f64, i64, i64)> = sqlx::query_as(
            "SELECT tag, score, post_count, engaged_user_count FROM trending_tags
             WHERE snapshot_id = $1 AND (score < $2 OR (score = $2 AND tag < $3))
             ORDER BY score DESC, tag DESC LIMIT $4",
        )
        .bind(snapshot)
        .bind(score)
        .bind(tag)
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let token = self
            .pages
            .next_token(scope, &mut rows, limit, |(tag, score, _, _)| vec![Key::Int(snapshot), Key::Float(*score), Key::Str(tag.clone())]);
        Ok(pb::ListTrendingTagsResponse {
            tags: rows
                .into_iter()
                .map(|(tag, score, post_count, engaged_user_count)| pb::TrendingTag { tag, score, post_count, engaged_user_count })
                .collect(),
            next_page_token: token,
        })
    }
}
