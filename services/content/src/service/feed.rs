//! The home feed: the pushed home timeline, merged at read time with the recent posts of
//! followed authors above the fan-out threshold, with a pull fallback so a returning user
//! never sees an empty feed while the accounts they follow have posts.

use std::collections::HashSet;

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_proto::content::v1 as pb;
use uuid::Uuid;

use super::posts::id_cursor;
use super::{ContentService, bad_token};
use crate::domain::{ModerationState, Viewer};
use crate::store::{graph, posts};
use crate::timeline::Entry;

const METHOD: &str = "/trainertribe.content.v1.ContentService/GetFeed";

/// Where a feed page's candidates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The home timeline plus the user timelines of followed pull authors.
    Timeline,
    /// Recent posts of every followee straight from the posts table.
    Pull,
}

impl ContentService {
    /// Up to `limit + 1` candidate entries below `before`, newest first, deduplicated.
    async fn candidates(
        &self,
        conn: &mut sqlx::PgConnection,
        viewer: &Viewer,
        source: Source,
        followees: &[Uuid],
        before: Option<Uuid>,
        limit: usize,
    ) -> Result<Vec<Entry>, ApiError> {
        let mut out: Vec<Entry> = Vec::new();
        match source {
            Source::Timeline => {
                out.extend(
                    self.timelines
                        .home(viewer.id, before, limit + 1)
                        .await
                        .map_err(ApiError::internal)?,
                );
                for author in graph::pulled_followees(conn, viewer.id).await? {
                    out.extend(
                        self.timelines
                            .user(author, before, limit + 1)
                            .await
                            .map_err(ApiError::internal)?,
                    );
                }
            }
            Source::Pull => {
                let mut authors = followees.to_vec();
                authors.push(viewer.id);
                let recent = posts::recent_of(conn, &authors, before, limit as i64 + 1).await?;
                out.extend(
                    recent
                        .into_iter()
                        .map(|(post_id, author_id)| Entry { post_id, author_id }),
                );
            }
        }
        let mut seen = HashSet::new();
        out.retain(|e| seen.insert(e.post_id));
        out.sort_by_key(|e| std::cmp::Reverse(e.post_id));
        Ok(out)
    }

    pub async fn get_feed(
        &self,
        caller: &UserPrincipal,
        req: pb::GetFeedRequest,
    ) -> Result<pb::GetFeedResponse, ApiError> {
        let viewer = Viewer::of(caller);
        let limit = page::page_size(req.page_size)? as usize;
        let hash = FilterHash::new().finish();
        let scope = PageScope {
            method: METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let keys = self.pages.decode(scope, &req.page_token)?;
        // The token remembers the source so a feed does not switch halfway through.
        let (source, before) = match keys.as_deref() {
            Some([Key::Int(src), Key::Str(_)]) => {
                let source = if *src == 1 {
                    Source::Pull
                } else {
                    Source::Timeline
                };
                (source, id_cursor(keys.map(|k| k[1..].to_vec()))?)
            }
            None => (Source::Timeline, None),
            Some(_) => return Err(bad_token()),
        };

        let mut conn = self.pool.acquire().await?;
        let followees = graph::followees(&mut conn, viewer.id).await?;
        let following: HashSet<Uuid> = followees.iter().copied().chain([viewer.id]).collect();
        let mut attempt = source;
        loop {
            let mut candidates = self
                .candidates(&mut conn, &viewer, attempt, &followees, before, limit)
                .await?;
            // The token follows the raw window, so posts filtered below never repeat or stall.
            let code = i64::from(attempt == Source::Pull);
            let token = self.pages.next_token(scope, &mut candidates, limit, |e| {
                vec![Key::Int(code), Key::Str(e.post_id.to_string())]
            });
            // Only authors still followed (or the reader), only what the reader may see, and
            // moderated posts stay on their author's profile, not in feeds.
            let ids: Vec<Uuid> = candidates
                .iter()
                .filter(|e| following.contains(&e.author_id))
                .map(|e| e.post_id)
                .collect();
            let states: Vec<_> = posts::states(&mut conn, &viewer, &ids)
                .await?
                .into_iter()
                .filter(|s| s.moderation == ModerationState::Visible)
                .collect();
            // A first page with nothing to show (new account, lost or stale timeline,
            // consumer behind) pulls from the followees instead.
            if states.is_empty() && before.is_none() && attempt == Source::Timeline {
                attempt = Source::Pull;
                continue;
            }
            // Bodies only for what passed the rules: a cached body never lets a post through.
            let rows = self.with_bodies(&mut conn, states).await?;
            drop(conn);
            return Ok(pb::GetFeedResponse {
                posts: self.render(&viewer, rows).await,
                next_page_token: token,
            });
        }
    }
}
