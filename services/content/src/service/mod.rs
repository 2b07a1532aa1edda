//! Use-cases of the content service. Each validates its request completely before
//! touching storage, and runs its writes and their events in one transaction.

mod comments;
mod feed;
mod likes;
mod moderation;
mod posts;
mod search;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tribe_kit::ApiError;
use tribe_kit::page::PageTokens;
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::convert;
use crate::domain::{Rules, Viewer};
use crate::limits::RateLimits;
use crate::store::posts::PostRow;
use crate::timeline::{Entry, TimelineStore};
use crate::users::Users;

pub const TOPIC: &str = "tribe.content.v1";
const PRODUCER: &str = "content";

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct ContentService {
    pub(crate) pool: PgPool,
    pub(crate) pages: PageTokens,
    pub(crate) users: Users,
    pub(crate) timelines: Arc<dyn TimelineStore>,
    pub(crate) rules: Rules,
    pub(crate) limits: RateLimits,
}

impl std::fmt::Debug for ContentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentService").finish_non_exhaustive()
    }
}

/// Construction parameters of [`ContentService`].
pub struct Deps {
    pub pool: PgPool,
    pub pages: PageTokens,
    pub users: Users,
    pub timelines: Arc<dyn TimelineStore>,
    pub media_hosts: Vec<String>,
    pub limits: RateLimits,
}

impl ContentService {
    pub fn new(deps: Deps) -> Self {
        let Deps { pool, pages, users, timelines, media_hosts, limits } = deps;
        Self { pool, pages, users, timelines, rules: Rules { media_hosts }, limits }
    }

    /// Author summaries for `ids`; degrades to id-only summaries when the user service
    /// is unavailable rather than failing the read.
    pub(crate) async fn authors(&self, ids: impl IntoIterator<Item = Uuid>) -> HashMap<Uuid, UserSummary> {
        let mut wanted: Vec<Uuid> = ids.into_iter().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return HashMap::new();
        }
        match self.users.summaries(&wanted).await {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), "author hydration failed; returning id-only summaries");
                HashMap::new()
            }
        }
    }

    /// Renders rows for `viewer` with their authors (one BatchGetUsers call).
    pub(crate) async fn render(&self, viewer: &Viewer, rows: Vec<PostRow>) -> Vec<pb::Post> {
        let authors = self.authors(rows.iter().map(|r| r.author_id)).await;
        rows.into_iter()
            .map(|r| {
                let author = authors.get(&r.author_id).cloned().unwrap_or_else(|| convert::bare_summary(r.author_id));
                convert::post(r, viewer, author)
            })
            .collect()
    }

    pub(crate) async fn render_one(&self, viewer: &Viewer, row: PostRow) -> pb::Post {
        self.render(viewer, vec![row]).await.pop().unwrap_or_default()
    }

    /// Best-effort timeline write after a commit; the fan-out consumer repeats it
    /// idempotently, so a failure here only delays the author's own view.
    pub(crate) async fn own_timelines(&self, entry: Entry) {
        let home = self.timelines.push_home(&[entry.author_id], entry).await;
        let user = self.timelines.push_user(entry).await;
        if let Err(err) = home.and(user) {
            tracing::warn!(error = format!("{err:#}"), "author timeline write failed; fan-out will retry");
        }
    }
}

/// Writes an event for `aggregate` into the outbox of the current transaction.
pub(crate) async fn emit(conn: &mut PgConnection, aggregate: Uuid, actor: Uuid, payload: Payload) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(PRODUCER, &aggregate.to_string(), &actor.to_string(), payload);
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}

/// NOT_FOUND for a post, worded the same whether it is missing or hidden from the caller.
pub(crate) fn post_not_found() -> ApiError {
    ApiError::not_found("post")
}
