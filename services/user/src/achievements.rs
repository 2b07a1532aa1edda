//! Awards achievements from the fitness service's events (`tribe.fitness.v1`): first
//! workout, streaks of 7/30/100 days, first personal record, program completed,
//! challenge completed. Each achievement is awarded once per user (the table's unique
//! key) and announced with AchievementEarned in the same transaction, so messaging can
//! notify the user.

use sqlx::PgConnection;
use tribe_kit::consumer::EventHandler;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::Event;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::service::emit;
use crate::store;

pub const GROUP: &str = "user-achievements";
pub const TOPIC: &str = "tribe.fitness.v1";

/// Streak lengths that earn an achievement, with its code.
const STREAKS: [(i32, &str); 3] = [(7, "STREAK_7"), (30, "STREAK_30"), (100, "STREAK_100")];

/// The achievement codes a fitness event earns for its user.
pub fn earned(payload: &Payload) -> Option<(&str, Vec<&'static str>)> {
    match payload {
        Payload::WorkoutCompleted(e) => {
            let mut codes = vec!["FIRST_WORKOUT"];
            codes.extend(
                STREAKS
                    .iter()
                    .filter(|(days, _)| e.current_streak_days >= *days)
                    .map(|(_, code)| *code),
            );
            Some((&e.user_id, codes))
        }
        Payload::PersonalRecordSet(e) => Some((&e.user_id, vec!["FIRST_PR"])),
        Payload::ProgramCompleted(e) => Some((&e.user_id, vec!["PROGRAM_COMPLETED"])),
        Payload::ChallengeCompleted(e) => Some((&e.user_id, vec!["CHALLENGE_COMPLETED"])),
        _ => None,
    }
}

/// Applies fitness events to `user_achievements`.
#[derive(Debug, Clone, Copy)]
pub struct AchievementAwarder;

#[async_trait::async_trait]
impl EventHandler for AchievementAwarder {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        let Some((user, codes)) = event.payload.as_ref().and_then(earned) else {
            return Ok(());
        };
        let Ok(user) = Uuid::parse_str(user) else {
            tracing::warn!(event_id = %event.event_id, "fitness event with a malformed user id; ignored");
            return Ok(());
        };
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
            .bind(user)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            // A deleted account (or one this mesh never had) earns nothing.
            return Ok(());
        }
        for code in codes {
            if !store::award(&mut *tx, user, code).await? {
                continue;
            }
            let title: String =
                sqlx::query_scalar("SELECT title FROM achievements WHERE code = $1")
                    .bind(code)
                    .fetch_one(&mut *tx)
                    .await?;
            let announced = Payload::AchievementEarned(ev::AchievementEarned {
                user_id: user.to_string(),
                code: code.to_string(),
                title,
                source_event_id: event.event_id.clone(),
            });
            emit(&mut *tx, user, "", announced)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        }
        Ok(())
    }
}
