//! The billing worker renewing due subscriptions with an advanced clock: a renewal, a
//! decline and its successful retry with the events they publish; retries running out
//! into expiry; a trial charged at its end with parallel workers billing once; a worker
//! crash after the provider charged; and monthly periods that keep their billing day
//! through short months.

use std::time::Duration;

use crate::common::*;
use chrono::{TimeZone, Utc};
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;

#[tokio::test]
async fn renew_then_decline_then_retry_succeeds() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(
        sub.current_period_end_time.unwrap().seconds,
        Utc.with_ymd_and_hms(2026, 2, 15, 12, 0, 0)
            .unwrap()
            .timestamp()
    );

    assert_eq!(env.bill().await, 0, "nothing due yet");
    env.clock.set(at(2, 15));
    assert_eq!(env.bill().await, 1);
    let renewed = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(renewed.status, pb::SubscriptionStatus::Active as i32);
    assert_eq!(
        renewed.current_period_end_time.unwrap().seconds,
        Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0)
            .unwrap()
            .timestamp()
    );

    // The next renewal hits a card that fails once.
    env.add_method(&ana, "tok_sandbox_retry").await;
    env.clock.set(at(3, 15));
    assert_eq!(env.bill().await, 1);
    let past_due = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(past_due.status, pb::SubscriptionStatus::PastDue as i32);
    assert_eq!(
        past_due.next_retry_time.unwrap().seconds,
        Utc.with_ymd_and_hms(2026, 3, 16, 12, 0, 0)
            .unwrap()
            .timestamp()
    );
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Premium as i32,
        "kept during the grace period"
    );
    assert_eq!(env.bill().await, 0, "the retry is not due yet");

    env.clock.set(at(3, 16));
    assert_eq!(env.bill().await, 1);
    let recovered = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(recovered.status, pb::SubscriptionStatus::Active as i32);
    assert!(recovered.next_retry_time.is_none());
    assert_eq!(
        recovered.current_period_end_time.unwrap().seconds,
        Utc.with_ymd_and_hms(2026, 4, 15, 12, 0, 0)
            .unwrap()
            .timestamp()
    );
    assert_eq!(
        env.count("SELECT count(*) FROM transactions WHERE status = 'SUCCEEDED'")
            .await,
        3
    );
    assert_eq!(
        env.count("SELECT count(*) FROM transactions WHERE status = 'FAILED'")
            .await,
        1
    );

    // Events: one per change, each exactly once on the broker.
    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 9, Duration::from_secs(20))
            .await
            .unwrap();
    let count = |f: fn(&Payload) -> bool| {
        events
            .iter()
            .filter(|e| e.payload.as_ref().is_some_and(f))
            .count()
    };
    assert_eq!(count(|p| matches!(p, Payload::SubscriptionStarted(_))), 1);
    assert_eq!(count(|p| matches!(p, Payload::PaymentSucceeded(_))), 3);
    assert_eq!(count(|p| matches!(p, Payload::SubscriptionRenewed(_))), 2);
    assert_eq!(count(|p| matches!(p, Payload::PaymentFailed(_))), 1);
    assert_eq!(
        count(|p| matches!(p, Payload::SubscriptionChanged(_))),
        2,
        "to PAST_DUE and back"
    );
    let mut ids: Vec<_> = events.iter().map(|e| e.event_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "no duplicates");
    assert!(
        events
            .iter()
            .all(|e| e.aggregate_id == ana.id && e.producer == "payment")
    );
}

#[tokio::test]
async fn declines_until_the_retries_run_out_expire_the_subscription() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    env.add_method(&ana, "tok_sandbox_decline").await;
    for (day, status) in [
        (15, pb::SubscriptionStatus::PastDue),
        (16, pb::SubscriptionStatus::PastDue),
        (18, pb::SubscriptionStatus::PastDue),
    ] {
        env.clock.set(at(2, day));
        assert_eq!(env.bill().await, 1, "attempt on Feb {day}");
        assert_eq!(
            env.get_sub(&ana, &sub.subscription_id).await.status,
            status as i32
        );
    }
    env.clock.set(at(2, 22));
    assert_eq!(env.bill().await, 1);
    let expired = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(expired.status, pb::SubscriptionStatus::Expired as i32);
    assert!(expired.end_time.is_some());
    assert_eq!(
        env.count("SELECT count(*) FROM transactions WHERE status = 'FAILED'")
            .await,
        4
    );
    let e = env.entitlement(&ana).await;
    assert_eq!(e.tier, SubscriptionTier::Free as i32);
    assert_eq!(
        e.subscription_status,
        pb::SubscriptionStatus::Expired as i32
    );
    env.clock.set(at(6, 1));
    assert_eq!(
        env.bill().await,
        0,
        "an expired subscription is never billed again"
    );
}

#[tokio::test]
async fn a_trial_charges_at_its_end_and_parallel_workers_bill_once() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 7)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let created = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    assert!(created.transaction.is_none());
    let sub = created.subscription.unwrap();
    assert_eq!(sub.status, pb::SubscriptionStatus::Trialing as i32);
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Premium as i32
    );

    env.clock.set(at(1, 22));
    let (a, b) = tokio::join!(env.bill(), env.bill());
    assert_eq!(
        a + b,
        1,
        "one worker renews, the other skips the locked row"
    );
    let active = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(active.status, pb::SubscriptionStatus::Active as i32);
    let charges: Vec<String> = sqlx::query_scalar("SELECT billing_reason FROM transactions")
        .fetch_all(&env.db.pool)
        .await
        .unwrap();
    assert_eq!(charges, vec!["SUBSCRIPTION_CREATE".to_string()]);
    assert_eq!(env.sandbox.charges_executed(), 1);
}

#[tokio::test]
async fn a_worker_crash_after_the_renewal_charge_does_not_charge_twice() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    env.clock.set(at(2, 15));
    env.faults
        .crash_after_charge
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        env.bill().await,
        0,
        "the run died after the provider charged"
    );
    assert_eq!(env.sandbox.charges_executed(), 2);
    assert_eq!(
        env.get_sub(&ana, &sub.subscription_id)
            .await
            .current_period_start_time
            .unwrap()
            .seconds,
        sub.current_period_start_time.unwrap().seconds
    );
    assert_eq!(env.bill().await, 1, "the next run renews");
    assert_eq!(
        env.sandbox.charges_executed(),
        2,
        "with the provider's first charge"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM transactions WHERE status = 'SUCCEEDED'")
            .await,
        2
    );
}

#[tokio::test]
async fn monthly_renewals_keep_the_billing_day_through_short_months() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "EUR", 0)
        .await;
    let eve = env.user();
    env.add_method(&eve, "tok_sandbox_visa").await;
    let day = |m: u32, d: u32| Utc.with_ymd_and_hms(2026, m, d, 8, 0, 0).unwrap();
    env.clock.set(day(1, 31));
    let sub = env
        .subscribe(&eve, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    assert_eq!(sub.current_period_end_time.unwrap().seconds, ts(day(2, 28)));
    for (renewal, next_end) in [
        (day(2, 28), day(3, 31)),
        (day(3, 31), day(4, 30)),
        (day(4, 30), day(5, 31)),
    ] {
        env.clock.set(renewal);
        assert_eq!(env.bill().await, 1);
        let s = env.get_sub(&eve, &sub.subscription_id).await;
        assert_eq!(s.current_period_start_time.unwrap().seconds, ts(renewal));
        assert_eq!(
            s.current_period_end_time.unwrap().seconds,
            ts(next_end),
            "renewed on {renewal}"
        );
    }
}
