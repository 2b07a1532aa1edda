//! Completion awards while logs are written, and the finaliser of ended challenges.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool};
use tokio::time::MissedTickBehavior;
use tribe_kit::ApiError;
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use uuid::Uuid;

use crate::service::{FitnessService, emit, emit_system};
use crate::store::challenges as store;

/// Challenges finalised per run at most, so a backlog cannot starve shutdown checks.
const MAX_PER_RUN: usize = 100;

/// Finalises challenges that ended (ChallengeFinished per participant) every
/// `interval` until `stop` resolves.
pub async fn finalise_ended(svc: FitnessService, interval: Duration, stop: BoxFuture<'static, ()>) {
    let mut stop = stop;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = &mut stop => return,
            _ = ticker.tick() => {}
        }
        tokio::select! {
            () = &mut stop => return,
            result = finalise_due(&svc.pool) => match result {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "finalised ended challenges"),
                Err(err) => tracing::warn!(error = %err, "finalising challenges failed"),
            },
        }
    }
}

/// Finalises ended challenges, one transaction each; returns how many.
async fn finalise_due(pool: &PgPool) -> Result<usize, ApiError> {
    let mut done = 0;
    while done < MAX_PER_RUN {
        let mut tx = pool.begin().await?;
        let Some((id, title, goal)) = store::lock_ended(&mut tx).await? else {
            break;
        };
        let standings = store::standings(&mut tx, id, None, None, i64::MAX).await?;
        let participant_count = standings.len() as i64;
        for standing in standings {
            let finished = Payload::ChallengeFinished(events::ChallengeFinished {
                challenge_id: id.to_string(),
                user_id: standing.user_id.to_string(),
                rank: standing.rank,
                score: standing.score,
                goal_reached: standing.score >= goal,
                participant_count,
                challenge_title: title.clone(),
            });
            emit_system(&mut tx, id, finished).await?;
        }
        store::mark_finalised(&mut tx, id).await?;
        tx.commit().await?;
        done += 1;
    }
    Ok(done)
}

/// Inside the transaction of a new or edited log of `user` completed at `completed_at`:
/// awards ChallengeCompleted (once per participant, under concurrent logs too) for
/// every challenge of the user whose window contains the time and whose goal the
/// user's score now reaches.
pub(crate) async fn on_session_logged(
    conn: &mut sqlx::PgConnection,
    user: uuid::Uuid,
    completed_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    award(conn, user, Some(completed_at), None).await
}

/// Awards ChallengeCompleted to `user` in the challenges (whose window contains `at`,
/// or `only`) where the goal is now reached and was not before. The participant rows
/// are locked first, so of two concurrent logs the second waits, then sees the first
/// (and its award) before scoring.
pub(crate) async fn award(
    conn: &mut PgConnection,
    user: Uuid,
    at: Option<DateTime<Utc>>,
    only: Option<Uuid>,
) -> Result<(), ApiError> {
    for pending in store::lock_pending(conn, user, at, only).await? {
        if pending.score < pending.goal {
            continue;
        }
        store::mark_completed(conn, pending.challenge_id, user).await?;
        emit(
            conn,
            pending.challenge_id,
            user,
            Payload::ChallengeCompleted(events::ChallengeCompleted {
                challenge_id: pending.challenge_id.to_string(),
                user_id: user.to_string(),
                challenge_creator_id: pending.creator_id.to_string(),
                score: pending.score,
                challenge_title: pending.title,
            }),
        )
        .await?;
    }
    Ok(())
}
