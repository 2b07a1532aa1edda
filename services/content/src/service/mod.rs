//! Use-cases of the content service. Each validates its request completely before
//! touching storage, and runs its writes and their events in one transaction.

mod comments;
mod feed;
mod likes;
mod moderation;
mod posts;
mod search;
mod trending;

pub use trending::refresh as refresh_trending;

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{PgConnection, PgPool};
use tribe_kit::ApiError;
use tribe_kit::page::PageTokens;
use tribe_proto::content::v1 as pb;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::r#type::v1::UserSummary;
use uuid::Uuid;

use crate::cache::Cache;
use crate::convert;
use crate::domain::{Rules, Viewer};
use crate::limits::RateLimits;
use crate::store::posts as post_store;
use crate::store::posts::{PostRow, PostState};
use crate::timeline::{Entry, TimelineStore};
use crate::user_client::UserClient;

pub const TOPIC: &str = "tribe.content.v1";
/// The producer named in the envelopes of this service's events.
const PRODUCER: &str = crate::policy::SERVICE_NAME;

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct ContentService {
    pub(crate) pool: PgPool,
    pub(crate) pages: PageTokens,
    pub(crate) users: UserClient,
    pub(crate) timelines: Arc<dyn TimelineStore>,
    pub(crate) rules: Rules,
    pub(crate) limits: RateLimits,
    pub(crate) cache: Cache,
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
    pub users: UserClient,
    pub timelines: Arc<dyn TimelineStore>,
    pub media_hosts: Vec<String>,
    pub limits: RateLimits,
    pub cache: Cache,
}

impl ContentService {
    pub fn new(deps: Deps) -> Self {
        let Deps {
            pool,
            pages,
            users,
            timelines,
            media_hosts,
            limits,
            cache,
        } = deps;
        Self {
            pool,
            pages,
            users,
            timelines,
            rules: Rules { media_hosts },
            limits,
            cache,
        }
    }

    /// Author summaries for `ids`: cached ones from Redis, the rest with one BatchGetUsers
    /// call (then cached); degrades to id-only summaries when the user service is
    /// unavailable rather than failing the read.
    pub(crate) async fn authors(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> HashMap<Uuid, UserSummary> {
        let mut wanted: Vec<Uuid> = ids.into_iter().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return HashMap::new();
        }
        let mut found = self.cache.users(&wanted).await;
        let missing: Vec<Uuid> = wanted
            .into_iter()
            .filter(|id| !found.contains_key(id))
            .collect();
        if missing.is_empty() {
            return found;
        }
        match self.users.summaries(&missing).await {
            Ok(fetched) => {
                self.cache.put_users(&fetched).await;
                found.extend(fetched);
            }
            Err(err) => {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "author hydration failed; returning id-only summaries"
                );
            }
        }
        found
    }

    /// The posts among `ids` that `viewer` may see, in the order of `ids`: the read rules
    /// and per-reader fields from one SQL query, the bodies through the cache.
    pub(crate) async fn hydrate(
        &self,
        conn: &mut PgConnection,
        viewer: &Viewer,
        ids: &[Uuid],
    ) -> Result<Vec<PostRow>, ApiError> {
        let states = post_store::states(conn, viewer, ids).await?;
        self.with_bodies(conn, states).await
    }

    /// Attaches bodies to `states` (which the read rules already admitted): one MGET, and
    /// the misses (absent, or older than the row's `updated_at`) from Postgres in one
    /// query, then cached with one pipeline. A post deleted meanwhile is left out.
    pub(crate) async fn with_bodies(
        &self,
        conn: &mut PgConnection,
        states: Vec<PostState>,
    ) -> Result<Vec<PostRow>, ApiError> {
        let ids: Vec<Uuid> = states.iter().map(|s| s.id).collect();
        let versions: HashMap<Uuid, _> = states.iter().map(|s| (s.id, s.updated_at)).collect();
        let mut bodies = self.cache.posts(&ids).await;
        bodies.retain(|id, body| versions.get(id) == Some(&body.updated_at));
        let missing: Vec<Uuid> = ids
            .into_iter()
            .filter(|id| !bodies.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let loaded = post_store::bodies(conn, &missing).await?;
            self.cache.put_posts(&loaded).await;
            bodies.extend(loaded.into_iter().map(|b| (b.id, b)));
        }
        Ok(states
            .into_iter()
            .filter_map(|s| bodies.remove(&s.id).map(|b| PostRow::assemble(s, b)))
            .collect())
    }

    /// Renders rows for `viewer` with their authors (cached, else one BatchGetUsers call).
    pub(crate) async fn render(&self, viewer: &Viewer, rows: Vec<PostRow>) -> Vec<pb::Post> {
        let authors = self.authors(rows.iter().map(|r| r.author_id)).await;
        rows.into_iter()
            .map(|r| {
                let author = authors
                    .get(&r.author_id)
                    .cloned()
                    .unwrap_or_else(|| convert::bare_summary(r.author_id));
                convert::post(r, viewer, author)
            })
            .collect()
    }

    pub(crate) async fn render_one(&self, viewer: &Viewer, row: PostRow) -> pb::Post {
        self.render(viewer, vec![row])
            .await
            .pop()
            .unwrap_or_default()
    }

    /// Best-effort timeline write after a commit; the fan-out consumer repeats it
    /// idempotently, so a failure here only delays the author's own view.
    pub(crate) async fn own_timelines(&self, entry: Entry) {
        let home = self.timelines.push_home(&[entry.author_id], entry).await;
        let user = self.timelines.push_user(entry).await;
        if let Err(err) = home.and(user) {
            tracing::warn!(
                error = format!("{err:#}"),
                "author timeline write failed; fan-out will retry"
            );
        }
    }
}

/// Writes an event for `aggregate` into the outbox of the current transaction.
pub(crate) async fn emit(
    conn: &mut PgConnection,
    aggregate: Uuid,
    actor: Uuid,
    payload: Payload,
) -> Result<(), ApiError> {
    let event = tribe_kit::outbox::envelope(
        PRODUCER,
        &aggregate.to_string(),
        &actor.to_string(),
        payload,
    );
    tribe_kit::outbox::enqueue(conn, TOPIC, &event).await
}

/// INVALID_ARGUMENT for a page token that decodes but does not hold this list's cursor.
pub(crate) fn bad_token() -> ApiError {
    ApiError::invalid_field("page_token", "malformed page token")
}

/// NOT_FOUND for a post, worded the same whether it is missing or hidden from the caller.
pub(crate) fn post_not_found() -> ApiError {
    ApiError::not_found("post")
}
