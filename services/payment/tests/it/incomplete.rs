//! First charges the provider cannot settle at once (3-D Secure): the INCOMPLETE state and
//! what it forbids, its settlement by the billing worker, failed authentication, its
//! 24-hour expiry or cancellation, and off-session renewals on such cards.

use std::time::Duration;

use crate::common::*;
use chrono::{TimeZone, Utc};
use tonic::Code;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;

fn kinds(events: &[tribe_proto::events::v1::Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| e.payload.as_ref())
        .map(|p| match p {
            Payload::SubscriptionStarted(_) => "started",
            Payload::SubscriptionChanged(_) => "changed",
            Payload::PaymentSucceeded(_) => "payment_succeeded",
            Payload::PaymentFailed(_) => "payment_failed",
            Payload::SubscriptionRenewed(_) => "renewed",
            Payload::SubscriptionCanceled(_) => "canceled",
            _ => "other",
        })
        .collect()
}

#[tokio::test]
async fn a_pending_first_charge_is_incomplete_until_it_settles_then_renewals_need_no_customer() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "EUR", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_pending").await;

    let created = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    let sub = created.subscription.unwrap();
    let charge = created.transaction.unwrap();
    assert_eq!(sub.status, pb::SubscriptionStatus::Incomplete as i32);
    assert_eq!(charge.status, pb::TransactionStatus::Pending as i32);
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Free as i32,
        "nothing granted while incomplete"
    );

    // While incomplete: no second subscription, no plan change.
    let again = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap_err();
    assert_status(&again, Code::AlreadyExists, Some("SUBSCRIPTION_EXISTS"));
    let yearly = pb::UpdateSubscriptionRequest {
        subscription: Some(pb::Subscription {
            subscription_id: sub.subscription_id.clone(),
            billing_cycle: pb::BillingCycle::Yearly as i32,
            ..Default::default()
        }),
        update_mask: mask(&["billing_cycle"]),
        request_id: rid(),
    };
    let change = env.update_sub(&ana, yearly).await.unwrap_err();
    assert_status(
        &change,
        Code::FailedPrecondition,
        Some("SUBSCRIPTION_INCOMPLETE"),
    );

    // The worker finds the charge settled an hour later: the paid period starts then.
    let settled_at = Utc.with_ymd_and_hms(2026, 1, 15, 13, 0, 0).unwrap();
    env.clock.set(settled_at);
    assert_eq!(env.bill().await, 1);
    let active = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(active.status, pb::SubscriptionStatus::Active as i32);
    assert_eq!(
        active.current_period_start_time.unwrap().seconds,
        ts(settled_at)
    );
    assert_eq!(
        active.current_period_end_time.unwrap().seconds,
        ts(Utc.with_ymd_and_hms(2026, 2, 15, 13, 0, 0).unwrap())
    );
    assert_eq!(env.tx_row(&charge.transaction_id).await.0, "SUCCEEDED");
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Premium as i32
    );
    assert_eq!(env.bill().await, 0, "settled once");
    assert_eq!(
        env.sandbox.charges_executed(),
        1,
        "settling charges nothing again"
    );

    // The renewal is off-session: the card cannot ask the customer, so it is declined
    // with `authentication_required` and the subscription goes PAST_DUE.
    env.clock
        .set(Utc.with_ymd_and_hms(2026, 2, 15, 13, 0, 0).unwrap());
    assert_eq!(env.bill().await, 1);
    let past_due = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(past_due.status, pb::SubscriptionStatus::PastDue as i32);
    let failure: String =
        sqlx::query_scalar("SELECT failure_code FROM transactions WHERE status = 'FAILED'")
            .fetch_one(&env.db.pool)
            .await
            .unwrap();
    assert_eq!(failure, "authentication_required");

    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 4, Duration::from_secs(20))
            .await
            .unwrap();
    assert_eq!(
        kinds(&events),
        ["started", "payment_succeeded", "payment_failed", "changed"],
        "nothing announced while incomplete"
    );
    let Some(Payload::SubscriptionStarted(started)) = &events[0].payload else {
        panic!("first event: {:?}", events[0])
    };
    assert_eq!(started.status, "ACTIVE");
    assert_eq!(started.entitlement_tier, SubscriptionTier::Premium as i32);
}

#[tokio::test]
async fn failed_authentication_expires_the_subscription_and_a_new_one_can_start() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "EUR", 0)
        .await;
    let ben = env.user();
    env.add_method(&ben, "tok_sandbox_pendingdecline").await;
    let created = env
        .subscribe(&ben, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    let sub = created.subscription.unwrap();
    assert_eq!(sub.status, pb::SubscriptionStatus::Incomplete as i32);

    assert_eq!(env.bill().await, 1);
    let expired = env.get_sub(&ben, &sub.subscription_id).await;
    assert_eq!(expired.status, pb::SubscriptionStatus::Expired as i32);
    assert_eq!(
        env.tx_row(&created.transaction.unwrap().transaction_id)
            .await,
        ("FAILED".into(), "authentication_failed".into())
    );
    assert_eq!(
        env.entitlement(&ben).await.tier,
        SubscriptionTier::Free as i32
    );

    // A working card starts a fresh subscription.
    env.add_method(&ben, "tok_sandbox_visa").await;
    let fresh = env
        .subscribe(&ben, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(fresh.status, pb::SubscriptionStatus::Active as i32);
    assert_ne!(fresh.subscription_id, sub.subscription_id);

    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 4, Duration::from_secs(20))
            .await
            .unwrap();
    assert_eq!(
        kinds(&events),
        ["payment_failed", "changed", "started", "payment_succeeded"]
    );
    let Some(Payload::SubscriptionChanged(end)) = &events[1].payload else {
        panic!("{:?}", events[1])
    };
    assert_eq!(
        (end.previous_status.as_str(), end.status.as_str()),
        ("INCOMPLETE", "EXPIRED")
    );
    assert_eq!(end.entitlement_tier, SubscriptionTier::Free as i32);
}

#[tokio::test]
async fn an_incomplete_subscription_expires_after_24_hours_or_when_canceled() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "EUR", 0)
        .await;
    let start_time = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();

    let cai = env.user();
    env.add_method(&cai, "tok_sandbox_pendingforever").await;
    let waiting = env
        .subscribe(&cai, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    let sub = waiting.subscription.unwrap();

    env.clock
        .set(start_time + chrono::Duration::hours(23) + chrono::Duration::minutes(59));
    assert_eq!(env.bill().await, 0, "still within the window");
    assert_eq!(
        env.get_sub(&cai, &sub.subscription_id).await.status,
        pb::SubscriptionStatus::Incomplete as i32
    );

    env.clock.set(start_time + chrono::Duration::hours(24));
    assert_eq!(env.bill().await, 1);
    assert_eq!(
        env.get_sub(&cai, &sub.subscription_id).await.status,
        pb::SubscriptionStatus::Expired as i32
    );
    let charge = waiting.transaction.unwrap().transaction_id;
    assert_eq!(
        env.tx_row(&charge).await,
        ("FAILED".into(), "incomplete_expired".into())
    );

    // The owner cancels another one before it settles: the pending charge is abandoned.
    let dee = env.user();
    env.add_method(&dee, "tok_sandbox_pendingforever_2").await;
    let waiting = env
        .subscribe(&dee, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    let id = waiting.subscription.unwrap().subscription_id;
    let canceled = env.cancel(&dee, &id, false).await.unwrap();
    assert_eq!(
        canceled.status,
        pb::SubscriptionStatus::Canceled as i32,
        "an incomplete subscription ends at once"
    );
    assert_eq!(
        env.tx_row(&waiting.transaction.unwrap().transaction_id)
            .await,
        ("FAILED".into(), "canceled".into())
    );
    assert_eq!(env.bill().await, 0, "nothing left to settle");
    assert_eq!(
        env.entitlement(&dee).await.tier,
        SubscriptionTier::Free as i32
    );
}
