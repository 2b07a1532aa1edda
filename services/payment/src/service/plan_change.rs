//! Plan and cycle changes of UpdateSubscription: free while trialing, an upgrade at once
//! with the prorated difference charged off-session, anything else at the period end.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;

use super::charges::{Charge, charge_key, decline_of};
use super::events::payment_failed;
use super::subscription_update::Update;
use super::{PaymentService, emit};
use crate::domain::{BillingReason, SubscriptionStatus, TxStatus, proration};
use crate::store::{self, PlanRow, SubRow, TxRow};

impl PaymentService {
    /// Applies a plan or cycle change to `sub`: at once and free while trialing; an
    /// upgrade at once, charging the prorated difference off-session; anything else
    /// scheduled for the period end. Returns the plan in effect and the charge.
    pub(super) async fn change_plan(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        u: &Update,
        before_plan: &PlanRow,
        sub: &mut SubRow,
        now: DateTime<Utc>,
    ) -> Result<(PlanRow, Option<TxRow>), ApiError> {
        match sub.status {
            SubscriptionStatus::PastDue => {
                return Err(ApiError::failed_precondition(
                    "SUBSCRIPTION_PAST_DUE",
                    "settle the failed payment first",
                ));
            }
            SubscriptionStatus::Incomplete => {
                return Err(ApiError::failed_precondition(
                    "SUBSCRIPTION_INCOMPLETE",
                    "the first payment is not confirmed yet",
                ));
            }
            _ => {}
        }
        let target = match u.new_plan {
            Some(pid) if pid != before_plan.id => {
                let p = store::plans::get(tx, pid)
                    .await?
                    .ok_or_else(|| ApiError::not_found("plan"))?;
                if !p.active {
                    return Err(ApiError::failed_precondition(
                        "PLAN_INACTIVE",
                        "the plan is not offered",
                    ));
                }
                if p.currency != before_plan.currency {
                    return Err(ApiError::failed_precondition(
                        "PLAN_CURRENCY_MISMATCH",
                        "the plan is priced in another currency",
                    ));
                }
                p
            }
            _ => before_plan.clone(),
        };
        let current_cycle = sub.billing_cycle;
        let target_cycle = u.new_cycle.unwrap_or(current_cycle);
        if sub.status == SubscriptionStatus::Trialing {
            sub.plan_id = target.id;
            sub.billing_cycle = target_cycle;
            sub.scheduled_plan_id = None;
            sub.scheduled_cycle = None;
            return Ok((target, None));
        }
        if target.tier_rank <= before_plan.tier_rank {
            sub.scheduled_plan_id = (target.id != before_plan.id).then_some(target.id);
            sub.scheduled_cycle = (target_cycle != current_cycle).then_some(target_cycle);
            return Ok((before_plan.clone(), None));
        }
        let left = (sub.current_period_end - now).num_seconds();
        let period = (sub.current_period_end - sub.current_period_start).num_seconds();
        let amount = proration(
            before_plan.price(current_cycle),
            target.price(current_cycle),
            left,
            period,
        )
        .ok_or_else(|| {
            ApiError::invalid_field("subscription.plan_id", "the prorated amount overflows")
        })?;
        let mut charged = None;
        if amount > 0 {
            let method = self.billing_method(tx, sub).await?.ok_or_else(|| {
                ApiError::failed_precondition("NO_PAYMENT_METHOD", "add a payment method first")
            })?;
            let charge = Charge {
                user: sub.user_id,
                subscription: Some(sub.id),
                method: Some(&method),
                amount,
                currency: &target.currency,
                reason: BillingReason::SubscriptionUpdate,
                key: charge_key(&["update", caller.subject(), &u.request_id]),
                off_session: true,
            };
            let t = self.charge(tx, charge).await?;
            if t.status != TxStatus::Succeeded {
                emit(
                    tx,
                    sub.user_id,
                    caller.subject(),
                    payment_failed(&t, &target, 1, None),
                )
                .await?;
                return Err(decline_of(&t));
            }
            charged = Some(t);
        }
        sub.plan_id = target.id;
        sub.scheduled_plan_id = None;
        sub.scheduled_cycle = (target_cycle != current_cycle).then_some(target_cycle);
        Ok((target, charged))
    }
}
