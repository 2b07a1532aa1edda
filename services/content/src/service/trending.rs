//! Trending posts and tags, read from the snapshots of `store::trending`, and the task
//! that keeps those snapshots fresh.

use std::time::Duration;

use chrono::Utc;
use sqlx::PgPool;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::content::v1 as pb;
use tribe_proto::content::v1::TrendingWindow;
use uuid::Uuid;

use super::{ContentService, bad_token};
use crate::domain::{ModerationState, Viewer, Visibility};
use crate::store::posts;
use crate::store::trending::{self, SnapshotKind, WINDOWS};

const TRENDING_POSTS: &str = "/trainertribe.content.v1.ContentService/ListTrendingPosts";
const TRENDING_TAGS: &str = "/trainertribe.content.v1.ContentService/ListTrendingTags";

/// The requested window; UNSPECIFIED is DAY, an unknown value a violation.
fn window(v: &mut Violations, raw: i32) -> TrendingWindow {
    match TrendingWindow::try_from(raw) {
        Ok(TrendingWindow::Unspecified) => TrendingWindow::Day,
        Ok(w) => w,
        Err(_) => {
            v.add("window", "unknown window");
            TrendingWindow::Unspecified
        }
    }
}

/// Recomputes the snapshots every `interval` (HOUR each tick, DAY and WEEK every fifth)
/// until `stop`.
pub async fn refresh(
    pool: PgPool,
    interval: Duration,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut tick: u64 = 0;
    loop {
        let windows: &[TrendingWindow] = if tick.is_multiple_of(5) {
            &WINDOWS
        } else {
            &WINDOWS[..1]
        };
        if let Err(err) = trending::recompute(&pool, windows, Utc::now()).await {
            tracing::warn!(error = format!("{err:#}"), "trending recomputation failed");
        }
        tick += 1;
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

impl ContentService {
    /// The snapshot a trending list reads: pinned by the token, else the newest (computed
    /// now if there is none yet).
    async fn snapshot(
        &self,
        kind: SnapshotKind,
        window: TrendingWindow,
        pinned: Option<i64>,
    ) -> Result<i64, ApiError> {
        if let Some(id) = pinned {
            if !trending::exists(&self.pool, id).await? {
                return Err(ApiError::invalid_reason(
                    "PAGE_TOKEN_EXPIRED",
                    "page_token",
                    "the trending snapshot of this token expired",
                ));
            }
            return Ok(id);
        }
        match trending::latest(&self.pool, kind, window).await? {
            Some(id) => Ok(id),
            None => {
                trending::recompute(&self.pool, &[window], Utc::now())
                    .await
                    .map_err(ApiError::internal)?;
                trending::latest(&self.pool, kind, window)
                    .await?
                    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no trending snapshot")))
            }
        }
    }

    pub async fn list_trending_posts(
        &self,
        caller: &UserPrincipal,
        req: pb::ListTrendingPostsRequest,
    ) -> Result<pb::ListTrendingPostsResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let mut v = Violations::new();
        let window = window(&mut v, req.window);
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let limit = limit.unwrap_or(page::DEFAULT_PAGE_SIZE) as usize;
        let hash = FilterHash::new()
            .add("window", (window as i16).to_be_bytes())
            .finish();
        let scope = PageScope {
            method: TRENDING_POSTS,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(snapshot), Key::Float(score), Key::Str(id)]) => Some((
                *snapshot,
                *score,
                Uuid::parse_str(id).map_err(|_| bad_token())?,
            )),
            Some(_) => return Err(bad_token()),
        };
        let snapshot = self
            .snapshot(SnapshotKind::Posts, window, after.map(|a| a.0))
            .await?;
        let (score, id) = after
            .map(|a| (a.1, a.2))
            .unwrap_or((f64::INFINITY, Uuid::max()));
        let mut ranked =
            trending::posts(&self.pool, snapshot, (score, id), limit as i64 + 1).await?;
        let token = self
            .pages
            .next_token(scope, &mut ranked, limit, |(id, score)| {
                vec![
                    Key::Int(snapshot),
                    Key::Float(*score),
                    Key::Str(id.to_string()),
                ]
            });
        let ids: Vec<Uuid> = ranked.iter().map(|(id, _)| *id).collect();
        let mut conn = self.pool.acquire().await?;
        // Still public and visible now, and visible to this reader.
        let states: Vec<_> = posts::states(&mut conn, &viewer, &ids)
            .await?
            .into_iter()
            .filter(|s| {
                s.moderation == ModerationState::Visible && s.visibility == Visibility::Public
            })
            .collect();
        let rows = self.with_bodies(&mut conn, states).await?;
        drop(conn);
        let posts = self.render(&viewer, rows).await;
        let scored = posts
            .into_iter()
            .map(|p| {
                let score = ranked
                    .iter()
                    .find(|(id, _)| id.to_string() == p.post_id)
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                pb::TrendingPost {
                    post: Some(p),
                    score,
                }
            })
            .collect();
        Ok(pb::ListTrendingPostsResponse {
            posts: scored,
            next_page_token: token,
        })
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
        let hash = FilterHash::new()
            .add("window", (window as i16).to_be_bytes())
            .finish();
        let scope = PageScope {
            method: TRENDING_TAGS,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(snapshot), Key::Float(score), Key::Str(tag)]) => {
                Some((*snapshot, *score, tag.clone()))
            }
            Some(_) => return Err(bad_token()),
        };
        let snapshot = self
            .snapshot(SnapshotKind::Tags, window, after.as_ref().map(|a| a.0))
            .await?;
        let (score, tag) = after
            .map(|a| (a.1, a.2))
            .unwrap_or((f64::INFINITY, "\u{10FFFF}".into()));
        let mut rows =
            trending::tags(&self.pool, snapshot, (score, &tag), limit as i64 + 1).await?;
        let token = self.pages.next_token(scope, &mut rows, limit, |r| {
            vec![
                Key::Int(snapshot),
                Key::Float(r.score),
                Key::Str(r.tag.clone()),
            ]
        });
        Ok(pb::ListTrendingTagsResponse {
            tags: rows
                .into_iter()
                .map(
                    |trending::TagRow {
                         tag,
                         score,
                         post_count,
                         engaged_user_count,
                     }| pb::TrendingTag {
                        tag,
                        score,
                        post_count,
                        engaged_user_count,
                    },
                )
                .collect(),
            next_page_token: token,
        })
    }
}
