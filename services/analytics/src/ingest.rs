//! The rollup consumer: applies every domain event to the raw table and the hourly
//! rollups inside the transaction in which kit::consumer records its `event_id`.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use prost::Message as _;
use sqlx::PgConnection;
use tribe_kit::consumer::{ConsumerConfig, EventHandler};
use tribe_proto::events::v1::{self as ev, ClientEventType, Event, event::Payload};

use crate::store::{bump, mark, post_author};
use crate::time::datetime;

/// Consumer group (and `processed_events.consumer`).
pub const GROUP: &str = "analytics";

/// Every logical topic the rollups read: each domain's, plus the tracked client events
/// that TrackEvents publishes on `tribe.analytics.v1`.
pub const TOPICS: [&str; 7] =
    ["tribe.user.v1", "tribe.content.v1", "tribe.messaging.v1", "tribe.fitness.v1", "tribe.support.v1", "tribe.payment.v1", TRACKING_TOPIC];

/// Where TrackEvents publishes (`trainertribe.events.v1.ClientEventTracked`).
pub const TRACKING_TOPIC: &str = "tribe.analytics.v1";

/// Repeated views by one viewer within this span count once.
const VIEW_SESSION: i64 = 30;

/// Metric names of the rollup subjects.
pub mod metric {
    pub const WORKOUTS_COMPLETED: &str = "workouts_completed";
    pub const WORKOUT_SECONDS: &str = "workout_seconds";
    pub const POSTS_CREATED: &str = "posts_created";
    pub const LIKES_GIVEN: &str = "likes_given";
    pub const LIKES_RECEIVED: &str = "likes_received";
    pub const COMMENTS_RECEIVED: &str = "comments_received";
    pub const FOLLOWERS_GAINED: &str = "followers_gained";
    pub const FOLLOWERS_LOST: &str = "followers_lost";
    pub const MESSAGES_SENT: &str = "messages_sent";
    pub const VIEWS: &str = "views";
    pub const LIKES: &str = "likes";
    pub const COMMENTS: &str = "comments";
    pub const SHARES: &str = "shares";
    pub const SAVES: &str = "saves";
    pub const PROFILE_VIEWS: &str = "profile_views";
    pub const POST_VIEWS: &str = "post_views";
    pub const ENGAGEMENTS: &str = "engagements";
    pub const NEW_USERS: &str = "new_users";
    pub const COMMENTS_CREATED: &str = "comments_created";
    /// Followed by ":<ISO 4217 code>"; minor units, refunds negative.
    pub const REVENUE: &str = "revenue";
}

/// Rollup subjects and distinct sets.
pub mod subject {
    pub const PLATFORM: &str = "platform";
    pub const ACTIVE_USERS: &str = "active_users";
    pub fn user(id: &str) -> String {
        format!("user:{id}")
    }
    pub fn post(id: &str) -> String {
        format!("post:{id}")
    }
    pub fn creator(id: &str) -> String {
        format!("creator:{id}")
    }
    pub fn post_viewers(id: &str) -> String {
        format!("post_viewers:{id}")
    }
    pub fn profile_viewers(id: &str) -> String {
        format!("profile_viewers:{id}")
    }
}

use metric as m;
use subject as s;

/// The consumer configuration of the rollups.
pub fn consumer_config() -> ConsumerConfig {
    ConsumerConfig::new(GROUP, &TOPICS)
}

/// Applies events to the rollups.
#[derive(Debug, Clone, Default)]
pub struct Rollups;

#[async_trait::async_trait]
impl EventHandler for Rollups {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        let occurred = event.occur_time.as_ref().and_then(datetime).context("malformed event: occur_time missing or invalid")?;
        let payload = event.payload.as_ref().context("event without payload")?;
        let (topic, kind) = describe(payload).unwrap_or_else(|| (fallback_topic(&event.producer), "Unrecognised"));
        let event_id = uuid::Uuid::parse_str(&event.event_id).context("event_id is not a UUID")?;
        apply(tx, payload, occurred).await.with_context(|| format!("malformed {kind}"))?;
        sqlx::query(
            "INSERT INTO raw_events (event_id, occurred_at, topic, kind, actor_id, aggregate_id, payload)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event_id)
        .bind(occurred)
        .bind(topic)
        .bind(kind)
        .bind(&event.actor_id)
        .bind(&event.aggregate_id)
        .bind(event.encode_to_vec())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO consumer_progress (topic, last_event_time, last_process_time) VALUES ($1, $2, now())
             ON CONFLICT (topic) DO UPDATE SET last_event_time = GREATEST(consumer_progress.last_event_time, EXCLUDED.last_event_time),
                                               last_process_time = now()",
        )
        .bind(topic)
        .bind(occurred)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}

/// The topic of a payload this build does not name yet (another domain added it): the
/// producer's domain topic, known ones only.
fn fallback_topic(producer: &str) -> &'static str {
    TOPICS.iter().find(|t| t.strip_prefix("tribe.").and_then(|t| t.strip_suffix(".v1")) == Some(producer)).copied().unwrap_or("unknown")
}

/// The logical topic a payload travels on, and its name. Payloads added to the contract
/// after this build (other domains add them) are `None`, recorded raw and otherwise
/// skipped, so a new event type never breaks this crate's build or its consumer.
#[allow(unreachable_patterns)]
fn describe(payload: &Payload) -> Option<(&'static str, &'static str)> {
    use Payload::*;
    Some(match payload {
        UserRegistered(_) => ("tribe.user.v1", "UserRegistered"),
        UserUpdated(_) => ("tribe.user.v1", "UserUpdated"),
        UserFollowed(_) => ("tribe.user.v1", "UserFollowed"),
        UserUnfollowed(_) => ("tribe.user.v1", "UserUnfollowed"),
        UserBlocked(_) => ("tribe.user.v1", "UserBlocked"),
        UserUnblocked(_) => ("tribe.user.v1", "UserUnblocked"),
        UserSessionsRevoked(_) => ("tribe.user.v1", "UserSessionsRevoked"),
        PostCreated(_) => ("tribe.content.v1", "PostCreated"),
        PostUpdated(_) => ("tribe.content.v1", "PostUpdated"),
        PostDeleted(_) => ("tribe.content.v1", "PostDeleted"),
        PostLiked(_) => ("tribe.content.v1", "PostLiked"),
        PostUnliked(_) => ("tribe.content.v1", "PostUnliked"),
        CommentCreated(_) => ("tribe.content.v1", "CommentCreated"),
        PostReported(_) => ("tribe.content.v1", "PostReported"),
        PostModerated(_) => ("tribe.content.v1", "PostModerated"),
        MessageSent(_) => ("tribe.messaging.v1", "MessageSent"),
        ConversationCreated(_) => ("tribe.messaging.v1", "ConversationCreated"),
        GroupMembershipChanged(_) => ("tribe.messaging.v1", "GroupMembershipChanged"),
        WorkoutCompleted(_) => ("tribe.fitness.v1", "WorkoutCompleted"),
        ProgramEnrolled(_) => ("tribe.fitness.v1", "ProgramEnrolled"),
        ChallengeJoined(_) => ("tribe.fitness.v1", "ChallengeJoined"),
        TicketCreated(_) => ("tribe.support.v1", "TicketCreated"),
        TicketUpdated(_) => ("tribe.support.v1", "TicketUpdated"),
        ChatbotUsed(_) => ("tribe.support.v1", "ChatbotUsed"),
        SubscriptionStarted(_) => ("tribe.payment.v1", "SubscriptionStarted"),
        SubscriptionRenewed(_) => ("tribe.payment.v1", "SubscriptionRenewed"),
        SubscriptionChanged(_) => ("tribe.payment.v1", "SubscriptionChanged"),
        SubscriptionCanceled(_) => ("tribe.payment.v1", "SubscriptionCanceled"),
        PaymentSucceeded(_) => ("tribe.payment.v1", "PaymentSucceeded"),
        PaymentFailed(_) => ("tribe.payment.v1", "PaymentFailed"),
        RefundIssued(_) => ("tribe.payment.v1", "RefundIssued"),
        ClientEventTracked(_) => (TRACKING_TOPIC, "ClientEventTracked"),
        _ => return None,
    })
}

fn required<'a>(field: &str, value: &'a str) -> anyhow::Result<&'a str> {
    if value.is_empty() {
        bail!("{field} is empty");
    }
    Ok(value)
}

async fn active(tx: &mut PgConnection, user_id: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    mark(tx, s::ACTIVE_USERS, at, user_id).await
}

/// An engagement (like, comment, share, save) on a post by `actor`: the post's own
/// counter, the author's creator engagements and the platform total.
async fn engage(tx: &mut PgConnection, post_id: &str, author: &str, actor: &str, counter: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    bump(tx, s::PLATFORM, m::ENGAGEMENTS, at, 1).await?;
    if actor != author {
        bump(tx, &s::post(post_id), counter, at, 1).await?;
        bump(tx, &s::creator(author), m::ENGAGEMENTS, at, 1).await?;
    }
    Ok(())
}

/// Learns a post's author from any content event that names it.
async fn remember_post(tx: &mut PgConnection, post_id: &str, author: &str, created: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO posts (post_id, author_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (post_id) DO UPDATE SET created_at = COALESCE(EXCLUDED.created_at, posts.created_at)",
    )
    .bind(post_id)
    .bind(author)
    .bind(created)
    .execute(tx)
    .await?;
    Ok(())
}

/// Whether a view of `target` by `viewer` at `at` starts a new 30-minute view; records it.
async fn fresh_view(tx: &mut PgConnection, target: &str, viewer: &str, at: DateTime<Utc>) -> sqlx::Result<bool> {
    let window = Duration::minutes(VIEW_SESSION);
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM counted_views WHERE target = $1 AND viewer_id = $2 AND viewed_at > $3 AND viewed_at < $4)",
    )
    .bind(target)
    .bind(viewer)
    .bind(at - window)
    .bind(at + window)
    .fetch_one(&mut *tx)
    .await?;
    if seen {
        return Ok(false);
    }
    sqlx::query("INSERT INTO counted_views (target, viewer_id, viewed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
        .bind(target)
        .bind(viewer)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

/// A post's owner: what content events told us wins over what TrackEvents knew then.
async fn owner_of(tx: &mut PgConnection, post_id: &str, fallback: &str) -> sqlx::Result<Option<String>> {
    Ok(post_author(tx, post_id).await?.or_else(|| Some(fallback.to_string()).filter(|o| !o.is_empty())))
}

async fn apply(tx: &mut PgConnection, payload: &Payload, at: DateTime<Utc>) -> anyhow::Result<()> {
    match payload {
        Payload::UserRegistered(e) => {
            let user = required("user_id", &e.user_id)?;
            sqlx::query("INSERT INTO users (user_id, is_trainer, registered_at) VALUES ($1, $2, $3) ON CONFLICT (user_id) DO NOTHING")
                .bind(user)
                .bind(e.is_trainer)
                .bind(at)
                .execute(&mut *tx)
                .await?;
            bump(tx, s::PLATFORM, m::NEW_USERS, at, 1).await?;
        }
        Payload::UserFollowed(e) => {
            let (follower, followee) = (required("follower_id", &e.follower_id)?, required("followee_id", &e.followee_id)?);
            sqlx::query("INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(follower)
                .bind(followee)
                .execute(&mut *tx)
                .await?;
            bump(tx, &s::user(followee), m::FOLLOWERS_GAINED, at, 1).await?;
            bump(tx, &s::creator(followee), m::FOLLOWERS_GAINED, at, 1).await?;
            active(tx, follower, at).await?;
        }
        Payload::UserUnfollowed(e) => {
            let (follower, followee) = (required("follower_id", &e.follower_id)?, required("followee_id", &e.followee_id)?);
            sqlx::query("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2")
                .bind(follower)
                .bind(followee)
                .execute(&mut *tx)
                .await?;
            bump(tx, &s::user(followee), m::FOLLOWERS_LOST, at, 1).await?;
            bump(tx, &s::creator(followee), m::FOLLOWERS_LOST, at, 1).await?;
        }
        Payload::UserBlocked(e) => {
            // A block removes follows in both directions; count only the ones we saw.
            let (blocker, blocked) = (required("blocker_id", &e.blocker_id)?, required("blocked_id", &e.blocked_id)?);
            let removed: Vec<String> = sqlx::query_scalar(
                "DELETE FROM follows WHERE (follower_id = $1 AND followee_id = $2) OR (follower_id = $2 AND followee_id = $1)
                 RETURNING followee_id",
            )
            .bind(blocker)
            .bind(blocked)
            .fetch_all(&mut *tx)
            .await?;
            for followee in removed {
                bump(tx, &s::user(&followee), m::FOLLOWERS_LOST, at, 1).await?;
                bump(tx, &s::creator(&followee), m::FOLLOWERS_LOST, at, 1).await?;
            }
        }
        Payload::PostCreated(e) => {
            let (post, author) = (required("post_id", &e.post_id)?, required("author_id", &e.author_id)?);
            remember_post(tx, post, author, Some(at)).await?;
            bump(tx, &s::user(author), m::POSTS_CREATED, at, 1).await?;
            bump(tx, s::PLATFORM, m::POSTS_CREATED, at, 1).await?;
            active(tx, author, at).await?;
        }
        Payload::PostDeleted(e) => {
            let post = required("post_id", &e.post_id)?;
            sqlx::query("UPDATE posts SET deleted_at = $2 WHERE post_id = $1").bind(post).bind(at).execute(&mut *tx).await?;
        }
        Payload::PostLiked(e) => {
            let (post, author, user) =
                (required("post_id", &e.post_id)?, required("author_id", &e.author_id)?, required("user_id", &e.user_id)?);
            remember_post(tx, post, author, None).await?;
            engage(tx, post, author, user, m::LIKES, at).await?;
            if user != author {
                bump(tx, &s::user(user), m::LIKES_GIVEN, at, 1).await?;
                bump(tx, &s::user(author), m::LIKES_RECEIVED, at, 1).await?;
            }
            active(tx, user, at).await?;
        }
        Payload::CommentCreated(e) => {
            let post = required("post_id", &e.post_id)?;
            let (post_author, author) = (required("post_author_id", &e.post_author_id)?, required("author_id", &e.author_id)?);
            required("comment_id", &e.comment_id)?;
            remember_post(tx, post, post_author, None).await?;
            bump(tx, s::PLATFORM, m::COMMENTS_CREATED, at, 1).await?;
            engage(tx, post, post_author, author, m::COMMENTS, at).await?;
            if author != post_author {
                bump(tx, &s::user(post_author), m::COMMENTS_RECEIVED, at, 1).await?;
            }
            active(tx, author, at).await?;
        }
        Payload::MessageSent(e) => {
            let sender = required("sender_id", &e.sender_id)?;
            required("message_id", &e.message_id)?;
            bump(tx, &s::user(sender), m::MESSAGES_SENT, at, 1).await?;
            bump(tx, s::PLATFORM, m::MESSAGES_SENT, at, 1).await?;
            active(tx, sender, at).await?;
        }
        Payload::WorkoutCompleted(e) => {
            let user = required("user_id", &e.user_id)?;
            if e.duration_seconds < 0 {
                bail!("duration_seconds is negative");
            }
            // Bucketed by when the workout was completed, not when it was logged.
            let at = e.completed_time.as_ref().and_then(datetime).unwrap_or(at);
            bump(tx, &s::user(user), m::WORKOUTS_COMPLETED, at, 1).await?;
            bump(tx, &s::user(user), m::WORKOUT_SECONDS, at, i64::from(e.duration_seconds)).await?;
            bump(tx, s::PLATFORM, m::WORKOUTS_COMPLETED, at, 1).await?;
            active(tx, user, at).await?;
        }
        Payload::PaymentSucceeded(e) => revenue(tx, e.amount.as_ref(), 1, at).await?,
        Payload::RefundIssued(e) => revenue(tx, e.amount.as_ref(), -1, at).await?,
        Payload::ClientEventTracked(e) => tracked(tx, e).await?,
        // Recorded in raw_events only: no view reads them.
        _ => {}
    }
    Ok(())
}

/// Platform revenue per currency. Payment events name no creator, so nothing is
/// attributed to trainers (see the README).
async fn revenue(
    tx: &mut PgConnection,
    amount: Option<&tribe_proto::r#type::v1::Money>,
    sign: i64,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    let amount = amount.context("amount is missing")?;
    let code = &amount.currency_code;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        bail!("currency_code {code:?} is not an ISO 4217 code");
    }
    bump(tx, s::PLATFORM, &format!("{}:{code}", m::REVENUE), at, sign * amount.amount_minor).await?;
    Ok(())
}

async fn tracked(tx: &mut PgConnection, e: &ev::ClientEventTracked) -> anyhow::Result<()> {
    let user = required("user_id", &e.user_id)?;
    let target = required("target_id", &e.target_id)?;
    let at = e.occur_time.as_ref().and_then(datetime).context("occur_time is missing")?;
    let kind =
        ClientEventType::try_from(e.r#type).ok().filter(|t| *t != ClientEventType::Unspecified).context("unknown client event type")?;
    active(tx, user, at).await?;
    match kind {
        ClientEventType::ViewPost => {
            // Unknown posts are dropped from the rollups; self-views are not counted.
            let Some(owner) = owner_of(tx, target, &e.target_owner_id).await? else { return Ok(()) };
            if owner == user {
                return Ok(());
            }
            mark(tx, &s::post_viewers(target), at, user).await?;
            if fresh_view(tx, &s::post(target), user, at).await? {
                bump(tx, &s::post(target), m::VIEWS, at, 1).await?;
                bump(tx, &s::creator(&owner), m::POST_VIEWS, at, 1).await?;
            }
        }
        ClientEventType::SharePost | ClientEventType::SavePost => {
            let Some(owner) = owner_of(tx, target, &e.target_owner_id).await? else { return Ok(()) };
            let counter = if kind == ClientEventType::SharePost { m::SHARES } else { m::SAVES };
            engage(tx, target, &owner, user, counter, at).await?;
        }
        ClientEventType::ViewProfile => {
            if target == user {
                return Ok(());
            }
            mark(tx, &s::profile_viewers(target), at, user).await?;
            if fresh_view(tx, &format!("profile:{target}"), user, at).await? {
                bump(tx, &s::creator(target), m::PROFILE_VIEWS, at, 1).await?;
            }
        }
        // An unsave never subtracts; workout, program and profile-share events only make
        // the user active.
        _ => {}
    }
    Ok(())
}
