//! Rows to protobuf messages, and wire enums to and from the domain's.

use chrono::{DateTime, Utc};
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::{Money, SubscriptionTier};

use crate::domain::{
    BillingReason, Cycle, MethodKind, PlanTier, Provider, SubscriptionStatus, TxKind, TxStatus,
};
use crate::store::{MethodRow, PlanRow, SubRow, TxRow};

pub fn ts(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn opt_ts(at: Option<DateTime<Utc>>) -> Option<prost_types::Timestamp> {
    at.map(ts)
}

pub fn from_ts(t: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?)
}

pub fn money(minor: i64, currency: &str) -> Money {
    Money {
        amount_minor: minor,
        currency_code: currency.to_string(),
    }
}

pub fn tier(t: PlanTier) -> SubscriptionTier {
    match t {
        PlanTier::Premium => SubscriptionTier::Premium,
        PlanTier::Pro => SubscriptionTier::Pro,
    }
}

/// A purchasable tier; FREE and UNSPECIFIED are not.
pub fn tier_from_pb(v: i32) -> Option<PlanTier> {
    match SubscriptionTier::try_from(v).ok()? {
        SubscriptionTier::Premium => Some(PlanTier::Premium),
        SubscriptionTier::Pro => Some(PlanTier::Pro),
        _ => None,
    }
}

pub fn cycle_to_pb(c: Cycle) -> pb::BillingCycle {
    match c {
        Cycle::Monthly => pb::BillingCycle::Monthly,
        Cycle::Yearly => pb::BillingCycle::Yearly,
    }
}

pub fn cycle_from_pb(v: i32) -> Option<Cycle> {
    match pb::BillingCycle::try_from(v).ok()? {
        pb::BillingCycle::Monthly => Some(Cycle::Monthly),
        pb::BillingCycle::Yearly => Some(Cycle::Yearly),
        pb::BillingCycle::Unspecified => None,
    }
}

pub fn status_to_pb(s: SubscriptionStatus) -> pb::SubscriptionStatus {
    use pb::SubscriptionStatus as S;
    match s {
        SubscriptionStatus::Trialing => S::Trialing,
        SubscriptionStatus::Active => S::Active,
        SubscriptionStatus::PastDue => S::PastDue,
        SubscriptionStatus::Canceled => S::Canceled,
        SubscriptionStatus::Incomplete => S::Incomplete,
        SubscriptionStatus::Expired => S::Expired,
    }
}

pub fn tx_kind_to_pb(k: TxKind) -> pb::TransactionType {
    match k {
        TxKind::Charge => pb::TransactionType::Charge,
        TxKind::Refund => pb::TransactionType::Refund,
    }
}

pub fn tx_kind_from_pb(v: i32) -> Option<TxKind> {
    match pb::TransactionType::try_from(v).ok()? {
        pb::TransactionType::Charge => Some(TxKind::Charge),
        pb::TransactionType::Refund => Some(TxKind::Refund),
        pb::TransactionType::Unspecified => None,
    }
}

pub fn tx_status_to_pb(s: TxStatus) -> pb::TransactionStatus {
    use pb::TransactionStatus as S;
    match s {
        TxStatus::Pending => S::Pending,
        TxStatus::Succeeded => S::Succeeded,
        TxStatus::Failed => S::Failed,
        TxStatus::Refunded => S::Refunded,
        TxStatus::PartiallyRefunded => S::PartiallyRefunded,
    }
}

pub fn tx_status_from_pb(v: i32) -> Option<TxStatus> {
    use pb::TransactionStatus as S;
    match S::try_from(v).ok()? {
        S::Pending => Some(TxStatus::Pending),
        S::Succeeded => Some(TxStatus::Succeeded),
        S::Failed => Some(TxStatus::Failed),
        S::Refunded => Some(TxStatus::Refunded),
        S::PartiallyRefunded => Some(TxStatus::PartiallyRefunded),
        S::Unspecified => None,
    }
}

pub fn reason_to_pb(r: BillingReason) -> pb::BillingReason {
    match r {
        BillingReason::Unspecified => pb::BillingReason::Unspecified,
        BillingReason::SubscriptionCreate => pb::BillingReason::SubscriptionCreate,
        BillingReason::SubscriptionCycle => pb::BillingReason::SubscriptionCycle,
        BillingReason::SubscriptionUpdate => pb::BillingReason::SubscriptionUpdate,
    }
}

pub fn provider_to_pb(p: Provider) -> pb::PaymentProvider {
    match p {
        Provider::Stripe => pb::PaymentProvider::Stripe,
        Provider::Paypal => pb::PaymentProvider::Paypal,
        Provider::Test => pb::PaymentProvider::Test,
    }
}

pub fn method_kind_to_pb(k: MethodKind) -> pb::PaymentMethodType {
    match k {
        MethodKind::Card => pb::PaymentMethodType::Card,
        MethodKind::Wallet => pb::PaymentMethodType::Wallet,
        MethodKind::BankAccount => pb::PaymentMethodType::BankAccount,
    }
}

pub fn plan(p: &PlanRow) -> pb::Plan {
    pb::Plan {
        plan_id: p.id.to_string(),
        name: p.name.clone(),
        description: p.description.clone(),
        tier: tier(p.tier) as i32,
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
        r#type: method_kind_to_pb(m.r#type) as i32,
        provider: provider_to_pb(m.provider) as i32,
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
    let is_charge = t.r#type == TxKind::Charge;
    pb::Transaction {
        transaction_id: t.id.to_string(),
        user_id: t.user_id.to_string(),
        subscription_id: t
            .subscription_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        r#type: tx_kind_to_pb(t.r#type) as i32,
        status: tx_status_to_pb(t.status) as i32,
        amount: Some(money(t.amount_minor, &t.currency)),
        refunded_amount: is_charge.then(|| money(t.refunded_minor, &t.currency)),
        billing_reason: reason_to_pb(t.billing_reason) as i32,
        refunded_transaction_id: t
            .refunded_transaction_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        refund_reason: t.refund_reason.clone(),
        payment_method_id: t
            .payment_method_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        failure_code: t.failure_code.clone(),
        failure_message: t.failure_message.clone(),
        provider: provider_to_pb(t.provider) as i32,
        provider_reference: t.provider_ref.clone(),
        create_time: Some(ts(t.created_at)),
        update_time: Some(ts(t.updated_at)),
    }
}

/// A subscription with its current plan and, when a change is pending, the scheduled plan.
pub fn subscription(s: &SubRow, plan: &PlanRow, scheduled: Option<&PlanRow>) -> pb::Subscription {
    let pending = s.scheduled_plan_id.is_some() || s.scheduled_cycle.is_some();
    let renewal_plan = scheduled.unwrap_or(plan);
    let renewal_cycle = s.scheduled_cycle.unwrap_or(s.billing_cycle);
    pb::Subscription {
        subscription_id: s.id.to_string(),
        user_id: s.user_id.to_string(),
        plan_id: s.plan_id.to_string(),
        tier: tier(plan.tier) as i32,
        status: status_to_pb(s.status) as i32,
        billing_cycle: cycle_to_pb(s.billing_cycle) as i32,
        renewal_price: Some(money(
            renewal_plan.price(renewal_cycle),
            &renewal_plan.currency,
        )),
        current_period_start_time: Some(ts(s.current_period_start)),
        current_period_end_time: Some(ts(s.current_period_end)),
        trial_end_time: opt_ts(s.trial_end),
        cancel_at_period_end: s.cancel_at_period_end,
        canceled_time: opt_ts(s.canceled_at),
        end_time: opt_ts(s.ended_at),
        default_payment_method_id: s
            .payment_method_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        next_retry_time: opt_ts(s.next_retry_at),
        scheduled_change: pending.then(|| pb::ScheduledChange {
            plan_id: renewal_plan.id.to_string(),
            tier: tier(renewal_plan.tier) as i32,
            billing_cycle: cycle_to_pb(renewal_cycle) as i32,
            effective_time: Some(ts(s.current_period_end)),
        }),
        create_time: Some(ts(s.created_at)),
        update_time: Some(ts(s.updated_at)),
    }
}
