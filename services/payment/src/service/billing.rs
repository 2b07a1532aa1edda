//! The billing worker's steps: settle INCOMPLETE subscriptions from their first charge,
//! and renew, retry, expire or end the due ones. Each subscription is claimed with
//! `FOR UPDATE SKIP LOCKED` and handled in its own transaction, so several workers share
//! the work; every charge carries a key derived from the subscription, its due time and
//! the attempt, so a crashed run's retry gets the provider's first answer.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tribe_kit::ApiError;
use uuid::Uuid;

use super::charges::{Charge, charge_key};
use super::events::{changed, payment_failed, payment_succeeded, renewed, started};
use super::{PaymentService, dangling, emit};
use crate::domain::{
    BillingReason, INCOMPLETE_WINDOW_HOURS, RETRY_SCHEDULE_DAYS, SubscriptionStatus, TxStatus,
};
use crate::provider::ChargeOutcome;
use crate::store::{self, SubRow};

/// The actor of the worker's events.
const ACTOR: &str = "system:billing";
/// Most renewals one run handles (the next run goes on).
const MAX_PER_RUN: usize = 10_000;

impl PaymentService {
    /// Settles every INCOMPLETE subscription whose first charge has an answer or whose
    /// window closed, one row lock at a time with SKIP LOCKED. Returns how many changed.
    pub async fn settle_incomplete(&self) -> anyhow::Result<usize> {
        let mut after = Uuid::nil();
        let mut done = 0;
        loop {
            let now = self.clock.now();
            let mut tx = self.pool.begin().await?;
            let Some(sub) = store::subscriptions::claim_incomplete(&mut tx, after).await? else {
                break;
            };
            after = sub.id;
            match self.settle_one(&mut tx, sub, now).await {
                Ok(true) => {
                    tx.commit().await?;
                    done += 1;
                }
                Ok(false) => tx.rollback().await?,
                Err(err) => {
                    tracing::warn!(subscription_id = %after, error = ?err, "could not settle; will retry on the next run")
                }
            }
        }
        Ok(done)
    }

    /// Processes every subscription due at the clock's "now", one row lock at a time with
    /// SKIP LOCKED so several workers share the work. Returns how many were processed.
    pub async fn renew_due(&self) -> anyhow::Result<usize> {
        let mut done = 0;
        loop {
            let now = self.clock.now();
            let mut tx = self.pool.begin().await?;
            let Some(sub) = store::subscriptions::claim_due(&mut tx, now).await? else {
                break;
            };
            let id = sub.id;
            match self.bill_one(&mut tx, sub, now).await {
                Ok(()) => {
                    tx.commit().await?;
                    done += 1;
                }
                Err(err) => {
                    tracing::warn!(subscription_id = %id, error = ?err, "billing failed; will retry on the next run");
                    break;
                }
            }
            if done >= MAX_PER_RUN {
                break;
            }
        }
        Ok(done)
    }

    /// Settles one INCOMPLETE subscription (locked by the caller) from its first charge:
    /// ACTIVE from `now` when the charge succeeded, EXPIRED when it was declined or
    /// [`INCOMPLETE_WINDOW_HOURS`] passed without an answer. Returns whether it changed.
    async fn settle_one(
        &self,
        tx: &mut PgConnection,
        before: SubRow,
        now: DateTime<Utc>,
    ) -> Result<bool, ApiError> {
        let plan = store::plans::get(tx, before.plan_id)
            .await?
            .ok_or_else(|| dangling("subscription without plan"))?;
        let expired = now >= before.created_at + chrono::Duration::hours(INCOMPLETE_WINDOW_HOURS);
        let charge = store::transactions::pending_charge(tx, before.id).await?;
        let outcome = match &charge {
            Some(t) if !t.provider_ref.is_empty() => {
                self.provider
                    .retrieve(&t.provider_ref)
                    .await
                    .map_err(super::provider_error)?
                    .outcome
            }
            _ => ChargeOutcome::Pending,
        };
        let mut sub = before.clone();
        let mut events = Vec::new();
        match (outcome, charge) {
            (ChargeOutcome::Succeeded, Some(mut t)) => {
                self.finish_charge(tx, &mut t, ChargeOutcome::Succeeded)
                    .await?;
                sub.status = SubscriptionStatus::Active;
                sub.current_period_start = now;
                sub.billing_anchor = now;
                sub.current_period_end = sub.billing_cycle.period_end(now);
                events.push(started(&sub, &plan));
                events.push(payment_succeeded(&t, &sub, &plan));
            }
            (ChargeOutcome::Declined { code, message }, Some(mut t)) => {
                self.finish_charge(tx, &mut t, ChargeOutcome::Declined { code, message })
                    .await?;
                sub.status = SubscriptionStatus::Expired;
                sub.ended_at = Some(now);
                events.push(payment_failed(&t, &plan, 1, None));
            }
            (_, _) if expired => {
                let t = self
                    .abandon_pending(
                        tx,
                        before.id,
                        "incomplete_expired",
                        "The payment was not completed within 24 hours.",
                    )
                    .await?;
                sub.status = SubscriptionStatus::Expired;
                sub.ended_at = Some(now);
                events.extend(t.map(|t| payment_failed(&t, &plan, 1, None)));
            }
            _ => return Ok(false),
        }
        if sub.status == SubscriptionStatus::Expired {
            events.push(changed(&before, &plan, &sub, &plan, now, None));
        }
        sub.updated_at = now;
        store::subscriptions::save(tx, &sub).await?;
        for e in events {
            emit(tx, sub.user_id, ACTOR, e).await?;
        }
        Ok(true)
    }

    /// Renews, retries, expires or ends one due subscription (locked by the caller).
    async fn bill_one(
        &self,
        tx: &mut PgConnection,
        before: SubRow,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let before_plan = store::plans::get(tx, before.plan_id)
            .await?
            .ok_or_else(|| dangling("subscription without plan"))?;
        let mut sub = before.clone();
        if sub.cancel_at_period_end {
            sub.status = SubscriptionStatus::Canceled;
            sub.ended_at = Some(if before.status == SubscriptionStatus::PastDue {
                now
            } else {
                sub.current_period_end
            });
            sub.next_retry_at = None;
            sub.updated_at = now;
            store::subscriptions::save(tx, &sub).await?;
            return emit(
                tx,
                sub.user_id,
                ACTOR,
                changed(&before, &before_plan, &sub, &before_plan, now, None),
            )
            .await;
        }
        let retrying = before.status == SubscriptionStatus::PastDue;
        let attempt = if retrying {
            before.retry_attempt + 1
        } else {
            1
        };
        if !retrying {
            // A scheduled downgrade or cycle change applies at the renewal.
            if let Some(p) = sub.scheduled_plan_id.take() {
                sub.plan_id = p;
            }
            if let Some(c) = sub.scheduled_cycle.take() {
                sub.billing_cycle = c;
            }
        }
        let plan = store::plans::get(tx, sub.plan_id)
            .await?
            .ok_or_else(|| dangling("scheduled plan missing"))?;
        let due = sub.current_period_end;
        let method = self.billing_method(tx, &sub).await?;
        let reason =
            if before.status == SubscriptionStatus::Trialing || before.trial_end == Some(due) {
                BillingReason::SubscriptionCreate
            } else {
                BillingReason::SubscriptionCycle
            };
        let charge = Charge {
            user: sub.user_id,
            subscription: Some(sub.id),
            method: method.as_ref(),
            amount: plan.price(sub.billing_cycle),
            currency: &plan.currency,
            reason,
            key: charge_key(&[
                "renew",
                &sub.id.to_string(),
                &due.timestamp().to_string(),
                &attempt.to_string(),
            ]),
            off_session: true,
        };
        let t = self.charge(tx, charge).await?;
        let mut events = Vec::new();
        if t.status == TxStatus::Succeeded {
            sub.status = SubscriptionStatus::Active;
            if before.status == SubscriptionStatus::Trialing
                || before.billing_cycle != sub.billing_cycle
            {
                sub.billing_anchor = due;
            }
            sub.current_period_start = due;
            sub.current_period_end = sub.billing_cycle.next_period_end(sub.billing_anchor, due);
            sub.retry_attempt = 0;
            sub.next_retry_at = None;
            events.push(renewed(&sub, &plan, &t));
            events.push(payment_succeeded(&t, &sub, &plan));
            if retrying
                || before.plan_id != sub.plan_id
                || before.billing_cycle != sub.billing_cycle
            {
                events.push(changed(&before, &before_plan, &sub, &plan, now, None));
            }
        } else {
            let retry = RETRY_SCHEDULE_DAYS
                .get(attempt as usize - 1)
                .map(|d| due + chrono::Duration::days(*d));
            match retry {
                Some(at) => {
                    sub.status = SubscriptionStatus::PastDue;
                    sub.retry_attempt = attempt;
                    sub.next_retry_at = Some(at);
                }
                None => {
                    sub.status = SubscriptionStatus::Expired;
                    sub.ended_at = Some(now);
                    sub.next_retry_at = None;
                }
            }
            events.push(payment_failed(&t, &plan, attempt, retry));
            if sub.status != before.status || before.plan_id != sub.plan_id {
                events.push(changed(&before, &before_plan, &sub, &plan, now, None));
            }
        }
        sub.updated_at = now;
        store::subscriptions::save(tx, &sub).await?;
        for e in events {
            emit(tx, sub.user_id, ACTOR, e).await?;
        }
        Ok(())
    }
}
