//! Feed fan-out and the local graph replica: consumes tribe.content.v1 and tribe.user.v1.
//!
//! - PostCreated (and a RESTORE, or a visibility change away from PRIVATE): push into the
//!   home timeline of every follower (ids streamed from the user service) and of the
//!   author, unless the author has more followers than the threshold; then the author is
//!   marked for read-time merge instead.
//! - PostDeleted, PostModerated HIDE/REMOVE, PostUpdated to PRIVATE: remove from feeds.
//! - UserFollowed: record the edge and backfill the followee's recent posts.
//! - UserUnfollowed / UserBlocked: drop the edge and the other side's posts from the feed.
//! - UserRegistered, UserUpdated (handle): remember the handle (mentions).
//! - UserUpdated (any field): drop the user's cached author summary.
//!
//! Timeline writes are idempotent, so a redelivered event (or a retry after the
//! transaction failed) repeats them harmlessly.

use std::sync::Arc;

use anyhow::Context;
use sqlx::PgConnection;
use tribe_kit::consumer::EventHandler;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::Event;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::cache::Cache;
use crate::domain::{ModerationState, Visibility};
use crate::store::{graph, posts};
use crate::timeline::{Entry, TimelineStore};
use crate::user_client::{Followers, UserClient};

pub const GROUP: &str = "content";
pub const TOPICS: [&str; 2] = ["tribe.content.v1", "tribe.user.v1"];
/// Posts copied into a feed when someone follows their author.
pub const BACKFILL: i64 = 20;

/// Applies content and user events to timelines and the graph replica.
#[derive(Clone)]
pub struct FanOut {
    pub timelines: Arc<dyn TimelineStore>,
    pub users: UserClient,
    pub cache: Cache,
    pub threshold: u64,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

fn id(raw: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(raw).with_context(|| format!("bad id {raw:?}"))
}

impl FanOut {
    /// Pushes a post to its author's followers (or marks the author for read-time merge).
    async fn push(
        &self,
        conn: &mut PgConnection,
        post_id: Uuid,
        author: Uuid,
    ) -> anyhow::Result<()> {
        let entry = Entry {
            post_id,
            author_id: author,
        };
        // The post may be gone or changed since the event was written; act on its state now.
        let Some((visibility, moderation)) = posts::audience(conn, post_id).await? else {
            return Ok(());
        };
        self.timelines.push_user(entry).await?;
        self.timelines.push_home(&[author], entry).await?;
        if visibility == Visibility::Private || moderation != ModerationState::Visible {
            return Ok(());
        }
        match self.followers(conn, author, self.threshold).await? {
            Followers::Few(followers) => {
                graph::unmark_pull(conn, author).await?;
                self.timelines.push_home(&followers, entry).await?;
                tracing::debug!(post = %post_id, followers = followers.len(), "post pushed");
            }
            Followers::Many(count) => {
                graph::mark_pull(conn, author, count).await?;
                tracing::debug!(post = %post_id, "author above the fan-out threshold: merged at read time");
            }
        }
        Ok(())
    }

    /// The author's followers from the user service; while it cannot be reached, from the
    /// local replica of the graph (kept from the same service's events), so an outage
    /// delays nothing and parks no post in the dead-letter topic.
    async fn followers(
        &self,
        conn: &mut PgConnection,
        author: Uuid,
        threshold: u64,
    ) -> anyhow::Result<Followers> {
        match self.users.followers(author, threshold).await {
            Ok(followers) => Ok(followers),
            Err(err) => {
                tracing::warn!(error = format!("{err:#}"), author = %author, "ListFollowerIds failed; using the local graph replica");
                let ids = graph::followers(conn, author).await?;
                Ok(if ids.len() as u64 > threshold {
                    Followers::Many(ids.len() as u64)
                } else {
                    Followers::Few(ids)
                })
            }
        }
    }

    /// Removes a post from every feed that may hold it.
    async fn pull_back(
        &self,
        conn: &mut PgConnection,
        post_id: Uuid,
        author: Uuid,
    ) -> anyhow::Result<()> {
        let mut owners = match self.followers(conn, author, u64::MAX).await? {
            Followers::Few(ids) => ids,
            Followers::Many(_) => Vec::new(),
        };
        owners.push(author);
        self.timelines
            .remove_post(
                &owners,
                Entry {
                    post_id,
                    author_id: author,
                },
            )
            .await
    }

    async fn backfill(
        &self,
        conn: &mut PgConnection,
        follower: Uuid,
        followee: Uuid,
    ) -> anyhow::Result<()> {
        let rows = posts::backfill(conn, follower, followee, BACKFILL).await?;
        let entries: Vec<Entry> = rows
            .into_iter()
            .map(|(post_id, author_id)| Entry { post_id, author_id })
            .collect();
        self.timelines.backfill_home(follower, &entries).await
    }
}

#[async_trait::async_trait]
impl EventHandler for FanOut {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        let Some(payload) = &event.payload else {
            return Ok(());
        };
        match payload {
            Payload::PostCreated(e) => self.push(tx, id(&e.post_id)?, id(&e.author_id)?).await?,
            Payload::PostUpdated(e) if e.changed_fields.iter().any(|f| f == "visibility") => {
                let (post, author) = (id(&e.post_id)?, id(&e.author_id)?);
                if e.visibility == events::ContentPostVisibility::Private as i32 {
                    self.pull_back(tx, post, author).await?;
                    // The author still sees it in their own feed and profile.
                    self.timelines
                        .push_home(
                            &[author],
                            Entry {
                                post_id: post,
                                author_id: author,
                            },
                        )
                        .await?;
                    self.timelines
                        .push_user(Entry {
                            post_id: post,
                            author_id: author,
                        })
                        .await?;
                } else {
                    self.push(tx, post, author).await?;
                }
            }
            Payload::PostDeleted(e) => {
                self.pull_back(tx, id(&e.post_id)?, id(&e.author_id)?)
                    .await?
            }
            Payload::PostModerated(e) => {
                let (post, author) = (id(&e.post_id)?, id(&e.author_id)?);
                if e.new_state == events::ContentModerationState::Visible as i32 {
                    self.push(tx, post, author).await?;
                } else {
                    self.pull_back(tx, post, author).await?;
                }
            }
            Payload::UserRegistered(e) => {
                graph::upsert_user(tx, id(&e.user_id)?, &e.handle, e.is_trainer).await?
            }
            // The new handle for mentions: from the event's summary (older events carry
            // only the changed field names, then ask the user service).
            Payload::UserUpdated(e) => {
                let user = id(&e.user_id)?;
                if e.changed_fields.iter().any(|f| f == "handle") {
                    let summary = match &e.user {
                        Some(summary) => Some(summary.clone()),
                        None => self.users.summaries(&[user]).await?.remove(&user),
                    };
                    if let Some(summary) = summary {
                        graph::upsert_user(tx, user, &summary.handle, summary.is_trainer).await?;
                    }
                }
                // Last, so a summary cached by a read racing the fetch above goes too.
                self.cache.forget_user(user).await;
            }
            Payload::UserFollowed(e) => {
                let (follower, followee) = (id(&e.follower_id)?, id(&e.followee_id)?);
                graph::follow(tx, follower, followee).await?;
                self.backfill(tx, follower, followee).await?;
            }
            Payload::UserUnfollowed(e) => {
                let (follower, followee) = (id(&e.follower_id)?, id(&e.followee_id)?);
                graph::unfollow(tx, follower, followee).await?;
                self.timelines
                    .remove_author_from_home(follower, followee)
                    .await?;
            }
            Payload::UserBlocked(e) => {
                let (blocker, blocked) = (id(&e.blocker_id)?, id(&e.blocked_id)?);
                graph::block(tx, blocker, blocked).await?;
                self.timelines
                    .remove_author_from_home(blocker, blocked)
                    .await?;
                self.timelines
                    .remove_author_from_home(blocked, blocker)
                    .await?;
            }
            Payload::UserUnblocked(e) => {
                graph::unblock(tx, id(&e.blocker_id)?, id(&e.blocked_id)?).await?
            }
            _ => {}
        }
        Ok(())
    }
}
