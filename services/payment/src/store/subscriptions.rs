//! Subscriptions, and the billing worker's claims on the due ones.
//!
//! Status values are written as SQL literals where a partial index is defined by them
//! (the planner matches an index predicate only against literals); `LIVE` is checked
//! against `SubscriptionStatus::LIVE` below.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Cycle, SubscriptionStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub plan_id: Uuid,
    pub status: SubscriptionStatus,
    pub billing_cycle: Cycle,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub payment_method_id: Option<Uuid>,
    pub retry_attempt: i32,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub scheduled_plan_id: Option<Uuid>,
    pub scheduled_cycle: Option<Cycle>,
    /// Periods are counted from here (the first paid period's start), so renewals keep
    /// its day of the month.
    pub billing_anchor: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, plan_id, status, billing_cycle, current_period_start, current_period_end, trial_end, \
     cancel_at_period_end, canceled_at, ended_at, payment_method_id, retry_attempt, next_retry_at, scheduled_plan_id, \
     scheduled_cycle, billing_anchor, created_at, updated_at";

/// `SubscriptionStatus::LIVE` as SQL (the predicate of `subscriptions_one_live_idx`).
const LIVE: &str = "('TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE')";

pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> sqlx::Result<Option<SubRow>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The user's live subscription, else the most recently created one.
pub async fn current(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<SubRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE user_id = $1
         ORDER BY (status IN {LIVE}) DESC, created_at DESC, id DESC LIMIT 1"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await
}

/// Whether the user has a live subscription.
pub async fn has_live(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND status IN {LIVE})"
    ))
    .bind(user)
    .fetch_one(conn)
    .await
}

/// Whether the user has a live subscription that will renew (not canceling at its end).
pub async fn has_renewing(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(&format!(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND NOT cancel_at_period_end AND status IN {LIVE})"
    ))
    .bind(user)
    .fetch_one(conn)
    .await
}

/// Whether the user ever had a trial (one per user).
pub async fn had_trial(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND trial_end IS NOT NULL)",
    )
    .bind(user)
    .fetch_one(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, s: &SubRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO subscriptions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.plan_id)
    .bind(s.status)
    .bind(s.billing_cycle)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.trial_end)
    .bind(s.cancel_at_period_end)
    .bind(s.canceled_at)
    .bind(s.ended_at)
    .bind(s.payment_method_id)
    .bind(s.retry_attempt)
    .bind(s.next_retry_at)
    .bind(s.scheduled_plan_id)
    .bind(s.scheduled_cycle)
    .bind(s.billing_anchor)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every mutable column of a subscription back.
pub async fn save(conn: &mut PgConnection, s: &SubRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE subscriptions SET plan_id = $2, status = $3, billing_cycle = $4, current_period_start = $5, current_period_end = $6,
         trial_end = $7, cancel_at_period_end = $8, canceled_at = $9, ended_at = $10, payment_method_id = $11, retry_attempt = $12,
         next_retry_at = $13, scheduled_plan_id = $14, scheduled_cycle = $15, updated_at = $16, billing_anchor = $17
         WHERE id = $1",
    )
    .bind(s.id)
    .bind(s.plan_id)
    .bind(s.status)
    .bind(s.billing_cycle)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.trial_end)
    .bind(s.cancel_at_period_end)
    .bind(s.canceled_at)
    .bind(s.ended_at)
    .bind(s.payment_method_id)
    .bind(s.retry_attempt)
    .bind(s.next_retry_at)
    .bind(s.scheduled_plan_id)
    .bind(s.scheduled_cycle)
    .bind(s.updated_at)
    .bind(s.billing_anchor)
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims the next INCOMPLETE subscription after `after` (in id order) that no other
/// worker holds.
pub async fn claim_incomplete(
    conn: &mut PgConnection,
    after: Uuid,
) -> sqlx::Result<Option<SubRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE status = 'INCOMPLETE' AND id > $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(after)
    .fetch_optional(conn)
    .await
}

/// Claims the next subscription due at `now` (a period that ended, or a retry that is
/// due) that no other worker holds.
pub async fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<SubRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM subscriptions
         WHERE (status IN ('TRIALING', 'ACTIVE') AND current_period_end <= $1) OR (status = 'PAST_DUE' AND next_retry_at <= $1)
         ORDER BY current_period_end, id LIMIT 1 FOR UPDATE SKIP LOCKED"
    ))
    .bind(now)
    .fetch_optional(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_literal_lists_the_live_statuses() {
        let values: Vec<String> = SubscriptionStatus::LIVE
            .iter()
            .map(|s| format!("'{s}'"))
            .collect();
        assert_eq!(LIVE, format!("({})", values.join(", ")));
    }
}
