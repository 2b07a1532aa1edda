//! Rows to protobuf messages, and wire enums to the strings stored in the database.

use chrono::{DateTime, Utc};
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::{Money, SubscriptionTier};

use crate::domain::Cycle;
use crate::store::{MethodRow, PlanRow, SubRow, TxRow};

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() as i32 }
}

pub fn opt_ts(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(ts)
}

pub fn from_ts(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

pub fn money(minor: i64, currency: &str) -> Money {
    Money { amount_minor: minor, currency_code: currency.to_string() }
}

pub fn tier(s: &str) -> SubscriptionTier {
    match s {
        "PREMIUM" => SubscriptionTier::Premium,
        "PRO" => SubscriptionTier::Pro,
        "FREE" => SubscriptionTier::Free,
        _ => SubscriptionTier::Unspecified,
    }
}

/// (stored name, rank) of a purchasable tier.
pub fn tier_from_pb(v: i32) -> Option<(&'static str, i32)> {
    match SubscriptionTier::try_from(v).ok()? {
        SubscriptionTier::Premium => Some(("PREMIUM", 1)),
        SubscriptionTier::Pro => Some(("PRO", 2)),
        _ => None,
    }
}

pub fn cycle_to_pb(s: &str) -> pb::BillingCycle {
    match Cycle::parse(s) {
        Some(Cycle::Monthly) => pb::BillingCycle::Monthly,
        Some(Cycle::Yearly) => pb::BillingCycle::Yearly,
        None => pb::BillingCycle::Unspecified,
    }
}

pub fn cycle_from_pb(v: i32) -> Option<Cycle> {
    match pb::BillingCycle::try_from(v).ok()? {
        pb::BillingCycle::Monthly => Some(Cycle::Monthly),
        pb::BillingCycle::Yearly => Some(Cycle::Yearly),
        pb::BillingCycle::Unspecified => None,
    }
}

pub fn status_to_pb(s: &str) -> pb::SubscriptionStatus {
    use pb::SubscriptionStatus as S;
    match s {
        "TRIALING" => S::Trialing,
        "ACTIVE" => S::Active,
        "PAST_DUE" => S::PastDue,
        "CANCELED" => S::Canceled,
        "INCOMPLETE" => S::Incomplete,
        "EXPIRED" => S::Expired,
        _ => S::Unspecified,
    }
}

pub fn tx_type_to_pb(s: &str) -> pb::TransactionType {
    match s {
        "CHARGE" => pb::TransactionType::Charge,
        "REFUND" => pb::TransactionType::Refund,
        _ => pb::TransactionType::Unspecified,
    }
}

pub fn tx_type_name(v: i32) -> Option<&'static str> {
    match pb::TransactionType::try_from(v).ok()? {
        pb::TransactionType::Charge => Some("CHARGE"),
        pb::TransactionType::Refund => Some("REFUND"),
        pb::TransactionType::Unspecified => None,
    }
}

pub fn tx_status_to_pb(s: &str) -> pb::TransactionStatus {
    use pb::TransactionStatus as S;
    match s {
        "PENDING" => S::Pending,
        "SUCCEEDED" => S::Succeeded,
        "FAILED" => S::Failed,
        "REFUNDED" => S::Refunded,
        "PARTIALLY_REFUNDED" => S::PartiallyRefunded,
        _ => S::Unspecified,
    }
}

pub fn tx_status_name(v: i32) -> Option<&'static str> {
    use pb::TransactionStatus as S;
    match S::try_from(v).ok()? {
        S::Pending => Some("PENDING"),
        S::Succeeded => Some("SUCCEEDED"),
        S::Failed => Some("FAILED"),
        S::Refunded => Some("REFUNDED"),
        S::PartiallyRefunded => Some("PARTIALLY_REFUNDED"),
        S::Unspecified => None,
    }
}

pub fn reason_to_pb(s: &str) -> pb::BillingReason {
    match s {
        "SUBSCRIPTION_CREATE" => pb::BillingReason::SubscriptionCreate,
        "SUBSCRIPTION_CYCLE" => pb::BillingReason::SubscriptionCycle,
        "SUBSCRIPTION_UPDATE" => pb::BillingReason::SubscriptionUpdate,
        _ => pb::BillingReason::Unspecified,
    }
}

pub fn provider_to_pb(s: &str) -> pb::PaymentProvider {
    match s {
        "STRIPE" => pb::PaymentProvider::Stripe,
        "PAYPAL" => pb::PaymentProvider::Paypal,
        "TEST" => pb::PaymentProvider::Test,
        _ => pb::PaymentProvider::Unspecified,
    }
}

pub fn method_type_to_pb(s: &str) -> pb::PaymentMethodType {
    match s {
        "CARD" => pb::PaymentMethodType::Card,
        "WALLET" => pb::PaymentMethodType::Wallet,
        "BANK_ACCOUNT" => pb::PaymentMethodType::BankAccount,
        _ => pb::PaymentMethodType::Unspecified,
    }
}

pub fn plan(p: &PlanRow) -> pb::Plan {
    pb::Plan {
        plan_id: p.id.to_string(),
        name: p.name.clone(),
        description: p.description.clone(),
        tier: tier(&p.tier) as i32,
        monthly_price: Some(money(p.monthly_minor, &p.currency)),
        yearly_price: Some(money(p.yearly_minor, &p.currency)),
        features: p.features.clone(),
        active: p.active,
        trial_days: p.trial_days,
        create_time: Some(ts(p.created_at)),
        update_time: Some(ts(p.updated_at)),
    }
}

pub fn method(m: &MethodRow) -> pb::PaymentMethod {
    pb::PaymentMethod {
        payment_method_id: m.id.to_string(),
        user_id: m.user_id.to_string(),
        r#type: method_type_to_pb(&m.r#type) as i32,
        provider: provider_to_pb(&m.provider) as i32,
        brand: m.brand.clone(),
        last4: m.last4.clone(),
        exp_month: m.exp_month,
        exp_year: m.exp_year,
        wallet: m.wallet.clone(),
        is_default: m.is_default,
        create_time: Some(ts(m.created_at)),
    }
}

pub fn transaction(t: &TxRow) -> pb::Transaction {
    let is_charge = t.r#type == "CHARGE";
    pb::Transaction {
        transaction_id: t.id.to_string(),
        user_id: t.user_id.to_string(),
        subscription_id: t.subscription_id.map(|id| id.to_string()).unwrap_or_default(),
        r#type: tx_type_to_pb(&t.r#type) as i32,
        status: tx_status_to_pb(&t.status) as i32,
        amount: Some(money(t.amount_minor, &t.currency)),
        refunded_amount: is_charge.then(|| money(t.refunded_minor, &t.currency)),
        billing_reason: reason_to_pb(&t.billing_reason) as i32,
        refunded_transaction_id: t.refunded_transaction_id.map(|id| id.to_string()).unwrap_or_default(),
        refund_reason: t.refund_reason.clone(),
        payment_method_id: t.payment_method_id.map(|id| id.to_string()).unwrap_or_default(),
        failure_code: t.failure_code.clone(),
        failure_message: t.failure_message.clone(),
        provider: provider_to_pb(&t.provider) as i32,
        provider_reference: t.provider_ref.clone(),
        create_time: Some(ts(t.created_at)),
        update_time: Some(ts(t.updated_at)),
    }
}

/// A subscription with its current plan and, when a change is pending, the scheduled plan.
pub fn subscription(s: &SubRow, plan: &PlanRow, scheduled: Option<&PlanRow>) -> pb::Subscription {
    let cycle = Cycle::parse(&s.billing_cycle).unwrap_or(Cycle::Monthly);
    let scheduled_cycle = s.scheduled_cycle.as_deref().and_then(Cycle::parse);
    let pending = s.scheduled_plan_id.is_some() || scheduled_cycle.is_some();
    let renewal_plan = scheduled.unwrap_or(plan);
    let renewal_cycle = scheduled_cycle.unwrap_or(cycle);
    pb::Subscription {
        subscription_id: s.id.to_string(),
        user_id: s.user_id.to_string(),
        plan_id: s.plan_id.to_string(),
        tier: tier(&plan.tier) as i32,
        status: status_to_pb(&s.status) as i32,
        billing_cycle: cycle_to_pb(&s.billing_cycle) as i32,
        renewal_price: Some(money(renewal_plan.price(renewal_cycle), &renewal_plan.currency)),
        current_period_start_time: Some(ts(s.current_period_start)),
        current_period_end_time: Some(ts(s.current_period_end)),
        trial_end_time: opt_ts(s.trial_end),
        cancel_at_period_end: s.cancel_at_period_end,
        canceled_time: opt_ts(s.canceled_at),
        end_time: opt_ts(s.ended_at),
        default_payment_method_id: s.payment_method_id.map(|id| id.to_string()).unwrap_or_default(),
        next_retry_time: opt_ts(s.next_retry_at),
        scheduled_change: pending.then(|| pb::ScheduledChange {
            plan_id: renewal_plan.id.to_string(),
            tier: tier(&renewal_plan.tier) as i32,
            billing_cycle: cycle_to_pb(renewal_cycle.as_str()) as i32,
            effective_time: Some(ts(s.current_period_end)),
        }),
        create_time: Some(ts(s.created_at)),
        update_time: Some(ts(s.updated_at)),
    }
}
