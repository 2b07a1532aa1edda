//! Consumes `tribe.user.v1`, `tribe.content.v1` and `tribe.fitness.v1`: follows, likes,
//! comments, mentions, achievements, finished challenges and a client's session of an
//! assigned program (to the trainer) become notifications; registrations and blocks
//! update the local user replica; revoked sessions end the user's live streams on every
//! instance.

use sqlx::PgConnection;
use tribe_kit::consumer::EventHandler;
use tribe_proto::events::v1::Event;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1::NotificationType;
use uuid::Uuid;

use crate::live::Hub;
use crate::service::notifications::notify;
use crate::store::notifications::NewNotification;
use crate::store::user_replica;

pub const GROUP: &str = "messaging";
pub const TOPICS: [&str; 3] = ["tribe.user.v1", "tribe.content.v1", "tribe.fitness.v1"];

#[derive(Debug, Clone)]
pub struct Notifier {
    hub: Hub,
}

impl Notifier {
    pub fn new(hub: Hub) -> Self {
        Self { hub }
    }
}

fn id(value: &str) -> Option<Uuid> {
    Uuid::parse_str(value).ok()
}

fn note(
    recipient: Uuid,
    kind: NotificationType,
    group_key: String,
    actor: &str,
) -> NewNotification {
    NewNotification {
        recipient_id: recipient,
        kind,
        group_key,
        actor_id: id(actor),
        ..Default::default()
    }
}

#[async_trait::async_trait]
impl EventHandler for Notifier {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        let Some(payload) = &event.payload else {
            return Ok(());
        };
        let mut notes: Vec<NewNotification> = Vec::new();
        match payload {
            Payload::UserRegistered(e) => {
                if let Some(user) = id(&e.user_id) {
                    user_replica::upsert_user(tx, user, &e.handle, e.is_trainer).await?;
                }
            }
            Payload::UserBlocked(e) => {
                if let (Some(a), Some(b)) = (id(&e.blocker_id), id(&e.blocked_id)) {
                    user_replica::set_block(tx, a, b, true).await?;
                }
            }
            Payload::UserUnblocked(e) => {
                if let (Some(a), Some(b)) = (id(&e.blocker_id), id(&e.blocked_id)) {
                    user_replica::set_block(tx, a, b, false).await?;
                }
            }
            Payload::UserSessionsRevoked(e) => {
                if let Some(user) = id(&e.user_id) {
                    self.hub.revoke(user, &e.session_id).await;
                }
            }
            Payload::UserFollowed(e) => {
                if let Some(followee) = id(&e.followee_id) {
                    notes.push(note(
                        followee,
                        NotificationType::Follow,
                        "follow".into(),
                        &e.follower_id,
                    ));
                }
            }
            Payload::PostLiked(e) => {
                if let Some(author) = id(&e.author_id) {
                    let mut n = note(
                        author,
                        NotificationType::PostLike,
                        format!("post:{}", e.post_id),
                        &e.user_id,
                    );
                    n.post_id = e.post_id.clone();
                    notes.push(n);
                }
            }
            Payload::CommentCreated(e) => {
                if let Some(author) = id(&e.post_author_id) {
                    let mut n = note(
                        author,
                        NotificationType::Comment,
                        format!("post:{}", e.post_id),
                        &e.author_id,
                    );
                    n.post_id = e.post_id.clone();
                    notes.push(n);
                }
                for mentioned in e.mentioned_user_ids.iter().filter_map(|m| id(m)) {
                    let mut n = note(
                        mentioned,
                        NotificationType::Mention,
                        String::new(),
                        &e.author_id,
                    );
                    n.post_id = e.post_id.clone();
                    n.comment_id = e.comment_id.clone();
                    notes.push(n);
                }
            }
            Payload::PostCreated(e) => {
                for mentioned in e.mentioned_user_ids.iter().filter_map(|m| id(m)) {
                    let mut n = note(
                        mentioned,
                        NotificationType::Mention,
                        String::new(),
                        &e.author_id,
                    );
                    n.post_id = e.post_id.clone();
                    notes.push(n);
                }
            }
            Payload::PostUpdated(e) => {
                for mentioned in e.new_mentioned_user_ids.iter().filter_map(|m| id(m)) {
                    let mut n = note(
                        mentioned,
                        NotificationType::Mention,
                        String::new(),
                        &e.author_id,
                    );
                    n.post_id = e.post_id.clone();
                    notes.push(n);
                }
            }
            Payload::AchievementEarned(e) => {
                if let Some(user) = id(&e.user_id) {
                    let mut n = note(user, NotificationType::Achievement, String::new(), "");
                    n.text = e.title.clone();
                    notes.push(n);
                }
            }
            Payload::WorkoutCompleted(e) => {
                if let Some(trainer) = id(&e.assigned_by_id) {
                    let day = event
                        .occur_time
                        .as_ref()
                        .map(|t| t.seconds.div_euclid(86_400))
                        .unwrap_or_default();
                    let mut n = note(
                        trainer,
                        NotificationType::ClientSession,
                        format!("client-sessions:{day}"),
                        &e.user_id,
                    );
                    n.text = session_text(e);
                    notes.push(n);
                }
            }
            Payload::ChallengeFinished(e) => {
                if let Some(user) = id(&e.user_id) {
                    let mut n = note(user, NotificationType::ChallengeFinished, String::new(), "");
                    n.text = finished_text(e);
                    notes.push(n);
                }
            }
            _ => {}
        }
        for n in &notes {
            notify(tx, &self.hub, n).await?;
        }
        Ok(())
    }
}

fn clip(text: String) -> String {
    text.chars().take(500).collect()
}

/// "Day 3 of your program: Leg day (45 min)".
fn session_text(e: &tribe_proto::events::v1::WorkoutCompleted) -> String {
    let title = if e.title.is_empty() {
        "a session"
    } else {
        &e.title
    };
    let minutes = e.duration_seconds / 60;
    clip(if e.program_day_number > 0 {
        format!(
            "Completed day {} of your program: {title} ({minutes} min)",
            e.program_day_number
        )
    } else {
        format!("Completed {title} ({minutes} min)")
    })
}

/// "You finished 2nd of 14 in 1000 minutes in March, goal reached".
fn finished_text(e: &tribe_proto::events::v1::ChallengeFinished) -> String {
    let suffix = match (e.rank % 10, e.rank % 100) {
        (1, r) if r != 11 => "st",
        (2, r) if r != 12 => "nd",
        (3, r) if r != 13 => "rd",
        _ => "th",
    };
    let goal = if e.goal_reached {
        "goal reached"
    } else {
        "goal not reached"
    };
    clip(format!(
        "You finished {}{suffix} of {} in {}, {goal}",
        e.rank, e.participant_count, e.challenge_title
    ))
}
