//! The home feed: the pushed home timeline, merged at read time with the recent posts of
//! followed authors above the fan-out threshold, with a pull fallback so a returning user
//! never sees an empty feed while the accounts they follow have posts.

use std::collections::HashSet;

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_proto::content::v1 as pb;
use uuid::Uuid;

use super::ContentService;
use super::posts::id_cursor;
use crate::domain::Viewer;
use crate::store::{graph, posts};
use crate::timeline::Entry;

const METHOD: &str = "/trainertribe.content.v1.ContentService/GetFeed";

impl ContentService {
    pub async fn get_feed(&self, caller: &UserPrincipal, req: pb::GetFeedRequest) -> Result<pb::GetFeedResponse, ApiError> {
        let viewer = Viewer::of(caller)?;
        let limit = page::page_size(req.page_size)? as usize;
        let hash = FilterHash::new().finish();
        let scope = PageScope { method: METHOD, subject_id: &caller.user_id, filter_hash: &hash };
        let before = id_cursor(self.pages.decode(scope, &req.page_token)?)?;

        let mut conn = self.pool.acquire().await?;
        let followees = graph::followees(&mut conn, viewer.id).await?;
        let pulled = graph::pulled_followees(&mut conn, viewer.id).await?;
        let home = self.timelines.home(viewer.id, before, limit + 1).await.map_err(ApiError::internal)?;
        let mut candidates: Vec<Entry> = home;
        let timeline_empty = candidates.is_empty()
            && (before.is_none() || self.timelines.home(viewer.id, None, 1).await.map_err(ApiError::internal)?.is_empty());
        if timeline_empty {
            // Nothing pushed (new account, timeline lost, consumer behind): pull.
            let mut authors = followees.clone();
            authors.push(viewer.id);
            let recent = posts::recent_of(&mut conn, &authors, before, limit as i64 + 1).await?;
            candidates.extend(recent.into_iter().map(|(post_id, author_id)| Entry { post_id, author_id }));
        } else {
            for author in &pulled {
                let theirs = self.timelines.user(*author, before, limit + 1).await.map_err(ApiError::internal)?;
                candidates.extend(theirs);
            }
        }
        let mut seen = HashSet::new();
        candidates.retain(|e| seen.insert(e.post_id));
        candidates.sort_by_key(|e| std::cmp::Reverse(e.post_id));
        // The token follows the raw window, so posts filtered below never repeat or stall.
        let token = self.pages.next_token(scope, &mut candidates, limit, |e| vec![Key::Str(e.post_id.to_string())]);

        // Only authors still followed (or the reader), and only what the reader may see.
        let following: HashSet<Uuid> = followees.into_iter().chain([viewer.id]).collect();
        let ids: Vec<Uuid> = candidates.iter().filter(|e| following.contains(&e.author_id)).map(|e| e.post_id).collect();
        let rows = posts::visible(&mut conn, &viewer, &ids).await?;
        drop(conn);
        // Moderated posts stay visible to their author on their profile, not in feeds.
        let rows = rows.into_iter().filter(|r| r.moderation == crate::domain::MOD_VISIBLE).collect();
        Ok(pb::GetFeedResponse { posts: self.render(&viewer, rows).await, next_page_token: token })
    }
}
