//! The rollup consumer: applies every domain event to the raw table and the hourly
//! rollups inside the transaction in which kit::consumer records its `event_id`.

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use prost::Message as _;
use sqlx::PgConnection;
use tribe_kit::consumer::{ConsumerConfig, EventHandler};
use tribe_proto::events::v1::{self as ev, ClientEventType, Event, event::Payload};

use crate::domain::{Metric, revenue_key, subject as s};
use crate::store::ingest::{self as store, RawEvent, mark};
use crate::store::post_author;
use crate::time::datetime;

/// Consumer group (and `processed_events.consumer`).
pub const GROUP: &str = "analytics";

/// Every logical topic the rollups read: each domain's, plus the tracked client events
/// that TrackEvents publishes on `tribe.analytics.v1`.
pub const TOPICS: [&str; 7] = [
    "tribe.user.v1",
    "tribe.content.v1",
    "tribe.messaging.v1",
    "tribe.fitness.v1",
    "tribe.support.v1",
    "tribe.payment.v1",
    TRACKING_TOPIC,
];

/// Where TrackEvents publishes (`trainertribe.events.v1.ClientEventTracked`).
pub const TRACKING_TOPIC: &str = "tribe.analytics.v1";

/// Repeated views by one viewer within this span count once.
const VIEW_SESSION: Duration = Duration::minutes(30);

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
        let occurred = event
            .occur_time
            .as_ref()
            .and_then(datetime)
            .context("malformed event: occur_time missing or invalid")?;
        let payload = event.payload.as_ref().context("event without payload")?;
        let (topic, kind) =
            describe(payload).unwrap_or_else(|| (fallback_topic(&event.producer), "Unrecognised"));
        let event_id = uuid::Uuid::parse_str(&event.event_id).context("event_id is not a UUID")?;
        apply(tx, payload, occurred)
            .await
            .with_context(|| format!("malformed {kind}"))?;
        let payload = event.encode_to_vec();
        let raw = RawEvent {
            event_id,
            occurred_at: occurred,
            topic,
            kind,
            actor_id: &event.actor_id,
            aggregate_id: &event.aggregate_id,
            payload: &payload,
        };
        store::record_raw(tx, raw).await?;
        store::advance_progress(tx, topic, occurred).await?;
        Ok(())
    }
}

/// The topic of a payload this build does not name yet (another domain added it): the
/// producer's domain topic, known ones only.
fn fallback_topic(producer: &str) -> &'static str {
    TOPICS
        .iter()
        .find(|t| t.strip_prefix("tribe.").and_then(|t| t.strip_suffix(".v1")) == Some(producer))
        .copied()
        .unwrap_or("unknown")
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
        AchievementEarned(_) => ("tribe.user.v1", "AchievementEarned"),
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
        PersonalRecordSet(_) => ("tribe.fitness.v1", "PersonalRecordSet"),
        ProgramCompleted(_) => ("tribe.fitness.v1", "ProgramCompleted"),
        ChallengeCompleted(_) => ("tribe.fitness.v1", "ChallengeCompleted"),
        ChallengeFinished(_) => ("tribe.fitness.v1", "ChallengeFinished"),
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

/// Adds `n` to one counter of `subject`.
async fn bump(
    tx: &mut PgConnection,
    subject: &str,
    metric: Metric,
    at: DateTime<Utc>,
    n: i64,
) -> sqlx::Result<()> {
    store::bump(tx, subject, metric.as_str(), at, n).await
}

async fn active(tx: &mut PgConnection, user_id: &str, at: DateTime<Utc>) -> sqlx::Result<()> {
    mark(tx, s::ACTIVE_USERS, at, user_id).await
}

/// A follow of `followee` gained or lost, on their activity and their creator insights.
async fn follower(
    tx: &mut PgConnection,
    followee: &str,
    metric: Metric,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    bump(tx, &s::user(followee), metric, at, 1).await?;
    bump(tx, &s::creator(followee), metric, at, 1).await
}

/// An engagement (like, comment, share, save) on a post by `actor`: the post's own
/// counter, the author's creator engagements and the platform total.
/// Counts a trainer's program or challenge activity by another user (a trainer's own
/// enrolment in their program does not count); nothing without a creator.
async fn creator_count(
    tx: &mut PgConnection,
    creator: &str,
    user: &str,
    metric: Metric,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    if creator.is_empty() || creator == user {
        return Ok(());
    }
    bump(tx, &s::creator(creator), metric, at, 1).await?;
    active(tx, user, at).await
}

async fn engage(
    tx: &mut PgConnection,
    post_id: &str,
    author: &str,
    actor: &str,
    counter: Metric,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    bump(tx, s::PLATFORM, Metric::Engagements, at, 1).await?;
    if actor != author {
        bump(tx, &s::post(post_id), counter, at, 1).await?;
        bump(tx, &s::creator(author), Metric::Engagements, at, 1).await?;
    }
    Ok(())
}

/// A post's owner: what content events told us wins over what TrackEvents knew then.
async fn owner_of(
    tx: &mut PgConnection,
    post_id: &str,
    fallback: &str,
) -> sqlx::Result<Option<String>> {
    Ok(post_author(tx, post_id)
        .await?
        .or_else(|| Some(fallback.to_string()).filter(|o| !o.is_empty())))
}

async fn apply(tx: &mut PgConnection, payload: &Payload, at: DateTime<Utc>) -> anyhow::Result<()> {
    match payload {
        Payload::UserRegistered(e) => {
            let user = required("user_id", &e.user_id)?;
            store::record_user(tx, user, e.is_trainer, at).await?;
            bump(tx, s::PLATFORM, Metric::NewUsers, at, 1).await?;
        }
        Payload::UserFollowed(e) => {
            let (follower_id, followee) = (
                required("follower_id", &e.follower_id)?,
                required("followee_id", &e.followee_id)?,
            );
            store::add_follow(tx, follower_id, followee).await?;
            follower(tx, followee, Metric::FollowersGained, at).await?;
            active(tx, follower_id, at).await?;
        }
        Payload::UserUnfollowed(e) => {
            let (follower_id, followee) = (
                required("follower_id", &e.follower_id)?,
                required("followee_id", &e.followee_id)?,
            );
            store::remove_follow(tx, follower_id, followee).await?;
            follower(tx, followee, Metric::FollowersLost, at).await?;
        }
        Payload::UserBlocked(e) => {
            // A block removes follows in both directions; count only the ones we saw.
            let (blocker, blocked) = (
                required("blocker_id", &e.blocker_id)?,
                required("blocked_id", &e.blocked_id)?,
            );
            for followee in store::remove_follows_between(tx, blocker, blocked).await? {
                follower(tx, &followee, Metric::FollowersLost, at).await?;
            }
        }
        Payload::PostCreated(e) => {
            let (post, author) = (
                required("post_id", &e.post_id)?,
                required("author_id", &e.author_id)?,
            );
            store::learn_post(tx, post, author, Some(at)).await?;
            bump(tx, &s::user(author), Metric::PostsCreated, at, 1).await?;
            bump(tx, s::PLATFORM, Metric::PostsCreated, at, 1).await?;
            active(tx, author, at).await?;
        }
        Payload::PostDeleted(e) => {
            let post = required("post_id", &e.post_id)?;
            store::mark_post_deleted(tx, post, at).await?;
        }
        Payload::PostLiked(e) => {
            let (post, author, user) = (
                required("post_id", &e.post_id)?,
                required("author_id", &e.author_id)?,
                required("user_id", &e.user_id)?,
            );
            store::learn_post(tx, post, author, None).await?;
            engage(tx, post, author, user, Metric::Likes, at).await?;
            if user != author {
                bump(tx, &s::user(user), Metric::LikesGiven, at, 1).await?;
                bump(tx, &s::user(author), Metric::LikesReceived, at, 1).await?;
            }
            active(tx, user, at).await?;
        }
        Payload::CommentCreated(e) => {
            let post = required("post_id", &e.post_id)?;
            let (post_author, author) = (
                required("post_author_id", &e.post_author_id)?,
                required("author_id", &e.author_id)?,
            );
            required("comment_id", &e.comment_id)?;
            store::learn_post(tx, post, post_author, None).await?;
            bump(tx, s::PLATFORM, Metric::CommentsCreated, at, 1).await?;
            engage(tx, post, post_author, author, Metric::Comments, at).await?;
            if author != post_author {
                bump(tx, &s::user(post_author), Metric::CommentsReceived, at, 1).await?;
            }
            active(tx, author, at).await?;
        }
        Payload::MessageSent(e) => {
            let sender = required("sender_id", &e.sender_id)?;
            required("message_id", &e.message_id)?;
            bump(tx, &s::user(sender), Metric::MessagesSent, at, 1).await?;
            bump(tx, s::PLATFORM, Metric::MessagesSent, at, 1).await?;
            active(tx, sender, at).await?;
        }
        Payload::WorkoutCompleted(e) => {
            let user = required("user_id", &e.user_id)?;
            if e.duration_seconds < 0 {
                bail!("duration_seconds is negative");
            }
            // Bucketed by when the workout was completed, not when it was logged.
            let at = e.completed_time.as_ref().and_then(datetime).unwrap_or(at);
            bump(tx, &s::user(user), Metric::WorkoutsCompleted, at, 1).await?;
            bump(
                tx,
                &s::user(user),
                Metric::WorkoutSeconds,
                at,
                i64::from(e.duration_seconds),
            )
            .await?;
            bump(tx, s::PLATFORM, Metric::WorkoutsCompleted, at, 1).await?;
            if !e.workout_creator_id.is_empty() && e.workout_creator_id != user {
                let creator = s::creator(&e.workout_creator_id);
                bump(tx, &creator, Metric::WorkoutSessions, at, 1).await?;
            }
            active(tx, user, at).await?;
        }
        Payload::ProgramEnrolled(e) => {
            let user = required("user_id", &e.user_id)?;
            creator_count(
                tx,
                &e.program_creator_id,
                user,
                Metric::ProgramEnrollments,
                at,
            )
            .await?;
        }
        Payload::ProgramCompleted(e) => {
            let user = required("user_id", &e.user_id)?;
            creator_count(
                tx,
                &e.program_creator_id,
                user,
                Metric::ProgramCompletions,
                at,
            )
            .await?;
        }
        Payload::ChallengeJoined(e) => {
            let user = required("user_id", &e.user_id)?;
            creator_count(
                tx,
                &e.challenge_creator_id,
                user,
                Metric::ChallengeJoins,
                at,
            )
            .await?;
        }
        Payload::ChallengeCompleted(e) => {
            let user = required("user_id", &e.user_id)?;
            let creator = &e.challenge_creator_id;
            creator_count(tx, creator, user, Metric::ChallengeCompletions, at).await?;
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
    store::bump(
        tx,
        s::PLATFORM,
        &revenue_key(code),
        at,
        sign * amount.amount_minor,
    )
    .await?;
    Ok(())
}

async fn tracked(tx: &mut PgConnection, e: &ev::ClientEventTracked) -> anyhow::Result<()> {
    let user = required("user_id", &e.user_id)?;
    let target = required("target_id", &e.target_id)?;
    let at = e
        .occur_time
        .as_ref()
        .and_then(datetime)
        .context("occur_time is missing")?;
    let kind = ClientEventType::try_from(e.r#type)
        .ok()
        .filter(|t| *t != ClientEventType::Unspecified)
        .context("unknown client event type")?;
    active(tx, user, at).await?;
    match kind {
        ClientEventType::ViewPost => {
            // Unknown posts are dropped from the rollups; self-views are not counted.
            let Some(owner) = owner_of(tx, target, &e.target_owner_id).await? else {
                return Ok(());
            };
            if owner == user {
                return Ok(());
            }
            mark(tx, &s::post_viewers(target), at, user).await?;
            if store::fresh_view(tx, &s::post(target), user, at, VIEW_SESSION).await? {
                bump(tx, &s::post(target), Metric::Views, at, 1).await?;
                bump(tx, &s::creator(&owner), Metric::PostViews, at, 1).await?;
            }
        }
        ClientEventType::SharePost | ClientEventType::SavePost => {
            let Some(owner) = owner_of(tx, target, &e.target_owner_id).await? else {
                return Ok(());
            };
            let counter = if kind == ClientEventType::SharePost {
                Metric::Shares
            } else {
                Metric::Saves
            };
            engage(tx, target, &owner, user, counter, at).await?;
        }
        ClientEventType::ViewProfile => {
            if target == user {
                return Ok(());
            }
            mark(tx, &s::profile_viewers(target), at, user).await?;
            if store::fresh_view(tx, &s::profile(target), user, at, VIEW_SESSION).await? {
                bump(tx, &s::creator(target), Metric::ProfileViews, at, 1).await?;
            }
        }
        // An unsave never subtracts; workout, program and profile-share events only make
        // the user active.
        _ => {}
    }
    Ok(())
}
