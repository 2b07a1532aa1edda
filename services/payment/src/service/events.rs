//! The events the use-cases and the billing worker publish, built from rows. Every one
//! is keyed by the user and carries the tier the user is entitled to afterwards.

use chrono::{DateTime, Utc};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::r#type::v1::SubscriptionTier;
use uuid::Uuid;

use crate::convert;
use crate::store::{PlanRow, SubRow, TxRow};

/// The tier `s` grants on `plan`: the plan's while it runs, FREE otherwise.
pub(super) fn entitlement_tier(s: &SubRow, plan: &PlanRow) -> i32 {
    if s.status.grants_tier() {
        convert::tier(plan.tier) as i32
    } else {
        SubscriptionTier::Free as i32
    }
}

pub(super) fn started(sub: &SubRow, plan: &PlanRow) -> Payload {
    Payload::SubscriptionStarted(ev::SubscriptionStarted {
        user_id: sub.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(plan.tier) as i32,
        billing_cycle: sub.billing_cycle.as_str().into(),
        status: sub.status.as_str().into(),
        current_period_start_time: Some(convert::ts(sub.current_period_start)),
        current_period_end_time: Some(convert::ts(sub.current_period_end)),
        trial_end_time: convert::opt_ts(sub.trial_end),
        price: Some(convert::money(
            plan.price(sub.billing_cycle),
            &plan.currency,
        )),
        entitlement_tier: convert::tier(plan.tier) as i32,
    })
}

/// A change from `before` on `before_plan` to `after` on `after_plan`, effective `at`.
pub(super) fn changed(
    before: &SubRow,
    before_plan: &PlanRow,
    after: &SubRow,
    after_plan: &PlanRow,
    at: DateTime<Utc>,
    transaction: Option<Uuid>,
) -> Payload {
    Payload::SubscriptionChanged(ev::SubscriptionChanged {
        user_id: after.user_id.to_string(),
        subscription_id: after.id.to_string(),
        previous_plan_id: before.plan_id.to_string(),
        plan_id: after.plan_id.to_string(),
        previous_tier: convert::tier(before_plan.tier) as i32,
        tier: convert::tier(after_plan.tier) as i32,
        previous_billing_cycle: before.billing_cycle.as_str().into(),
        billing_cycle: after.billing_cycle.as_str().into(),
        previous_status: before.status.as_str().into(),
        status: after.status.as_str().into(),
        cancel_at_period_end: after.cancel_at_period_end,
        current_period_end_time: Some(convert::ts(after.current_period_end)),
        effective_time: Some(convert::ts(at)),
        transaction_id: transaction.map(|t| t.to_string()).unwrap_or_default(),
        entitlement_tier: entitlement_tier(after, after_plan),
        scheduled_plan_id: after
            .scheduled_plan_id
            .map(|p| p.to_string())
            .unwrap_or_default(),
        scheduled_billing_cycle: after
            .scheduled_cycle
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
    })
}

pub(super) fn renewed(sub: &SubRow, plan: &PlanRow, t: &TxRow) -> Payload {
    Payload::SubscriptionRenewed(ev::SubscriptionRenewed {
        user_id: sub.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(plan.tier) as i32,
        billing_cycle: sub.billing_cycle.as_str().into(),
        current_period_start_time: Some(convert::ts(sub.current_period_start)),
        current_period_end_time: Some(convert::ts(sub.current_period_end)),
        transaction_id: t.id.to_string(),
        amount: Some(convert::money(t.amount_minor, &t.currency)),
        entitlement_tier: convert::tier(plan.tier) as i32,
    })
}

pub(super) fn canceled(sub: &SubRow, plan: &PlanRow, immediately: bool, by_admin: bool) -> Payload {
    Payload::SubscriptionCanceled(ev::SubscriptionCanceled {
        user_id: sub.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(plan.tier) as i32,
        immediately,
        end_time: Some(convert::ts(if immediately {
            sub.ended_at.unwrap_or(sub.updated_at)
        } else {
            sub.current_period_end
        })),
        by_admin,
        entitlement_tier: entitlement_tier(sub, plan),
    })
}

pub(super) fn payment_succeeded(t: &TxRow, sub: &SubRow, plan: &PlanRow) -> Payload {
    Payload::PaymentSucceeded(ev::PaymentSucceeded {
        user_id: t.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        transaction_id: t.id.to_string(),
        amount: Some(convert::money(t.amount_minor, &t.currency)),
        billing_reason: t.billing_reason.as_str().into(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(plan.tier) as i32,
        current_period_end_time: Some(convert::ts(sub.current_period_end)),
    })
}

/// A failed charge; `attempt` counts renewal attempts, `next_retry` is when the next one
/// is due (none after the last).
pub(super) fn payment_failed(
    t: &TxRow,
    plan: &PlanRow,
    attempt: i32,
    next_retry: Option<DateTime<Utc>>,
) -> Payload {
    Payload::PaymentFailed(ev::PaymentFailed {
        user_id: t.user_id.to_string(),
        subscription_id: t.subscription_id.map(|s| s.to_string()).unwrap_or_default(),
        transaction_id: t.id.to_string(),
        amount: Some(convert::money(t.amount_minor, &t.currency)),
        billing_reason: t.billing_reason.as_str().into(),
        failure_code: t.failure_code.clone(),
        attempt,
        next_retry_time: convert::opt_ts(next_retry),
        plan_id: plan.id.to_string(),
        tier: convert::tier(plan.tier) as i32,
    })
}

/// `refund` of `charge` (whose refunded amount already includes it).
pub(super) fn refund_issued(charge: &TxRow, refund: &TxRow) -> Payload {
    Payload::RefundIssued(ev::RefundIssued {
        user_id: charge.user_id.to_string(),
        subscription_id: charge
            .subscription_id
            .map(|s| s.to_string())
            .unwrap_or_default(),
        transaction_id: refund.id.to_string(),
        refunded_transaction_id: charge.id.to_string(),
        amount: Some(convert::money(refund.amount_minor, &charge.currency)),
        total_refunded_amount: Some(convert::money(charge.refunded_minor, &charge.currency)),
        full_refund: charge.refunded_minor == charge.amount_minor,
    })
}
