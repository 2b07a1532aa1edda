//! The billing worker with an advanced clock: renewals, retries, expiry, cancellation at
//! period end, plan switches, trials, concurrent workers, and the events they publish.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use crate::common::*;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::authed;

fn at(month: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 12, 0, 1).unwrap()
}

#[tokio::test]
async fn renew_then_decline_then_retry_succeeds() {
    let mut env = start().await;
    let plan = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &plan, pb::BillingCycle::Monthly).await.unwrap().subscription.unwrap();
    assert_eq!(sub.current_period_end_time.unwrap().seconds, Utc.with_ymd_and_hms(2026, 2, 15, 12, 0, 0).unwrap().timestamp());

    assert_eq!(env.bill().await, 0, "nothing due yet");
    env.clock.set(at(2, 15));
    assert_eq!(env.bill().await, 1);
    let renewed = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(renewed.status, pb::SubscriptionStatus::Active as i32);
    assert_eq!(renewed.current_period_end_time.unwrap().seconds, Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap().timestamp());

    // The next renewal hits a card that fails once.
    env.add_method(&ana, "tok_sandbox_retry").await;
    env.clock.set(at(3, 15));
    assert_eq!(env.bill().await, 1);
    let past_due = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(past_due.status, pb::SubscriptionStatus::PastDue as i32);
    assert_eq!(past_due.next_retry_time.unwrap().seconds, Utc.with_ymd_and_hms(2026, 3, 16, 12, 0, 0).unwrap().timestamp());
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Premium as i32, "kept during the grace period");
    assert_eq!(env.bill().await, 0, "the retry is not due yet");

    env.clock.set(at(3, 16));
    assert_eq!(env.bill().await, 1);
    let recovered = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(recovered.status, pb::SubscriptionStatus::Active as i32);
    assert!(recovered.next_retry_time.is_none());
    assert_eq!(recovered.current_period_end_time.unwrap().seconds, Utc.with_ymd_and_hms(2026, 4, 15, 12, 0, 0).unwrap().timestamp());
    assert_eq!(env.count("SELECT count(*) FROM transactions WHERE status = 'SUCCEEDED'").await, 3);
    assert_eq!(env.count("SELECT count(*) FROM transactions WHERE status = 'FAILED'").await, 1);

    // Events: one per change, each exactly once on the broker.
    let events = tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 9, Duration::from_secs(20)).await.unwrap();
    let count = |f: fn(&Payload) -> bool| events.iter().filter(|e| e.payload.as_ref().is_some_and(f)).count();
    assert_eq!(count(|p| matches!(p, Payload::SubscriptionStarted(_))), 1);
    assert_eq!(count(|p| matches!(p, Payload::PaymentSucceeded(_))), 3);
    assert_eq!(count(|p| matches!(p, Payload::SubscriptionRenewed(_))), 2);
    assert_eq!(count(|p| matches!(p, Payload::PaymentFailed(_))), 1);
    assert_eq!(count(|p| matches!(p, Payload::SubscriptionChanged(_))), 2, "to PAST_DUE and back");
    let mut ids: Vec<_> = events.iter().map(|e| e.event_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), events.len(), "no duplicates");
    assert!(events.iter().all(|e| e.aggregate_id == ana.id && e.producer == "payment"));
}

#[tokio::test]
async fn declines_until_the_retries_run_out_expire_the_subscription() {
    let mut env = start().await;
    let plan = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &plan, pb::BillingCycle::Monthly).await.unwrap().subscription.unwrap();
    env.add_method(&ana, "tok_sandbox_decline").await;
    for (day, status) in
        [(15, pb::SubscriptionStatus::PastDue), (16, pb::SubscriptionStatus::PastDue), (18, pb::SubscriptionStatus::PastDue)]
    {
        env.clock.set(at(2, day));
        assert_eq!(env.bill().await, 1, "attempt on Feb {day}");
        assert_eq!(env.get_sub(&ana, &sub.subscription_id).await.status, status as i32);
    }
    env.clock.set(at(2, 22));
    assert_eq!(env.bill().await, 1);
    let expired = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(expired.status, pb::SubscriptionStatus::Expired as i32);
    assert!(expired.end_time.is_some());
    assert_eq!(env.count("SELECT count(*) FROM transactions WHERE status = 'FAILED'").await, 4);
    let e = env.entitlement(&ana).await;
    assert_eq!(e.tier, SubscriptionTier::Free as i32);
    assert_eq!(e.subscription_status, pb::SubscriptionStatus::Expired as i32);
    env.clock.set(at(6, 1));
    assert_eq!(env.bill().await, 0, "an expired subscription is never billed again");
}

#[tokio::test]
async fn cancel_at_period_end_resume_and_immediate_cancel() {
    let mut env = start().await;
    let plan = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &plan, pb::BillingCycle::Yearly).await.unwrap().subscription.unwrap();
    let cancel =
        |immediately| pb::CancelSubscriptionRequest { subscription_id: sub.subscription_id.clone(), immediately, request_id: rid() };
    let canceling = env.client.cancel_subscription(authed(cancel(false), &ana.token)).await.unwrap().into_inner().subscription.unwrap();
    assert!(canceling.cancel_at_period_end);
    assert_eq!(canceling.status, pb::SubscriptionStatus::Active as i32);
    let resume = pb::ResumeSubscriptionRequest { subscription_id: sub.subscription_id.clone(), request_id: rid() };
    let resumed = env.client.resume_subscription(authed(resume.clone(), &ana.token)).await.unwrap().into_inner().subscription.unwrap();
    assert!(!resumed.cancel_at_period_end);
    let status = env
        .client
        .resume_subscription(authed(pb::ResumeSubscriptionRequest { request_id: rid(), ..resume }, &ana.token))
        .await
        .unwrap_err();
    assert_status(&status, tonic::Code::FailedPrecondition, Some("NOT_CANCELING"));
    env.client.cancel_subscription(authed(cancel(false), &ana.token)).await.unwrap();
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Premium as i32, "kept until the period ends");

    env.clock.set(Utc.with_ymd_and_hms(2027, 1, 15, 12, 0, 1).unwrap());
    assert_eq!(env.bill().await, 1);
    let ended = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(ended.status, pb::SubscriptionStatus::Canceled as i32);
    assert_eq!(env.count("SELECT count(*) FROM transactions").await, 1, "no renewal charge");
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Free as i32);
    let status = env.client.cancel_subscription(authed(cancel(true), &ana.token)).await.unwrap_err();
    assert_status(&status, tonic::Code::FailedPrecondition, Some("SUBSCRIPTION_ENDED"));

    // A new subscription can start, and an immediate cancel ends it now.
    let again = env.subscribe(&ana, &plan, pb::BillingCycle::Monthly).await.unwrap().subscription.unwrap();
    let now = pb::CancelSubscriptionRequest { subscription_id: again.subscription_id.clone(), immediately: true, request_id: rid() };
    let canceled = env.client.cancel_subscription(authed(now, &ana.token)).await.unwrap().into_inner().subscription.unwrap();
    assert_eq!(canceled.status, pb::SubscriptionStatus::Canceled as i32);
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Free as i32);
}

#[tokio::test]
async fn upgrade_is_prorated_now_and_downgrade_waits_for_renewal() {
    let mut env = start().await;
    let premium = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0).await;
    let pro = env.plan(SubscriptionTier::Pro, 2550, 25500, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &premium, pb::BillingCycle::Monthly).await.unwrap().subscription.unwrap();
    let update = |plan: &pb::Plan| pb::UpdateSubscriptionRequest {
        subscription: Some(pb::Subscription {
            subscription_id: sub.subscription_id.clone(),
            plan_id: plan.plan_id.clone(),
            ..Default::default()
        }),
        update_mask: mask(&["plan_id"]),
        request_id: rid(),
    };
    // 16 of the period's 31 days left: (2550 - 1000) * 16 / 31 = 800.
    env.clock.set(Utc.with_ymd_and_hms(2026, 1, 30, 12, 0, 0).unwrap());
    let up = env.client.update_subscription(authed(update(&pro), &ana.token)).await.unwrap().into_inner();
    assert_eq!(up.transaction.unwrap().amount.unwrap().amount_minor, 800);
    let upgraded = up.subscription.unwrap();
    assert_eq!(upgraded.tier, SubscriptionTier::Pro as i32);
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Pro as i32);

    let down = env.client.update_subscription(authed(update(&premium), &ana.token)).await.unwrap().into_inner();
    assert!(down.transaction.is_none());
    let scheduled = down.subscription.unwrap();
    assert_eq!(scheduled.tier, SubscriptionTier::Pro as i32, "still Pro until the period ends");
    assert_eq!(scheduled.scheduled_change.unwrap().plan_id, premium.plan_id);
    assert_eq!(scheduled.renewal_price.unwrap().amount_minor, 1000);

    let bad = pb::UpdateSubscriptionRequest { update_mask: mask(&["status"]), ..update(&premium) };
    assert_eq!(env.client.update_subscription(authed(bad, &ana.token)).await.unwrap_err().code(), tonic::Code::InvalidArgument);

    env.clock.set(at(2, 15));
    assert_eq!(env.bill().await, 1);
    let renewed = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(renewed.plan_id, premium.plan_id);
    assert!(renewed.scheduled_change.is_none());
    let amounts: Vec<i64> =
        sqlx::query_scalar("SELECT amount_minor FROM transactions ORDER BY created_at, id").fetch_all(&env.db.pool).await.unwrap();
    assert_eq!(amounts, vec![1000, 800, 1000]);

    // Upgrade, scheduling the downgrade, and applying it each announce a change; the
    // scheduled one keeps Pro until it applies.
    let events = tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 8, Duration::from_secs(20)).await.unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::SubscriptionChanged(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 3, "{changes:#?}");
    assert_eq!((changes[0].plan_id.as_str(), changes[0].scheduled_plan_id.as_str()), (pro.plan_id.as_str(), ""));
    assert_eq!((changes[1].plan_id.as_str(), changes[1].scheduled_plan_id.as_str()), (pro.plan_id.as_str(), premium.plan_id.as_str()));
    assert_eq!(changes[1].entitlement_tier, SubscriptionTier::Pro as i32);
    assert_eq!((changes[2].plan_id.as_str(), changes[2].scheduled_plan_id.as_str()), (premium.plan_id.as_str(), ""));
    assert_eq!(changes[2].entitlement_tier, SubscriptionTier::Premium as i32);
}

#[tokio::test]
async fn a_trial_charges_at_its_end_and_parallel_workers_bill_once() {
    let mut env = start().await;
    let plan = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 7).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let created = env.subscribe(&ana, &plan, pb::BillingCycle::Monthly).await.unwrap();
    assert!(created.transaction.is_none());
    let sub = created.subscription.unwrap();
    assert_eq!(sub.status, pb::SubscriptionStatus::Trialing as i32);
    assert_eq!(env.entitlement(&ana).await.tier, SubscriptionTier::Premium as i32);

    env.clock.set(at(1, 22));
    let (a, b) = tokio::join!(env.bill(), env.bill());
    assert_eq!(a + b, 1, "one worker renews, the other skips the locked row");
    let active = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(active.status, pb::SubscriptionStatus::Active as i32);
    let charges: Vec<String> = sqlx::query_scalar("SELECT billing_reason FROM transactions").fetch_all(&env.db.pool).await.unwrap();
    assert_eq!(charges, vec!["SUBSCRIPTION_CREATE".to_string()]);
    assert_eq!(env.sandbox.charges_executed(), 1);
}

#[tokio::test]
async fn a_worker_crash_after_the_renewal_charge_does_not_charge_twice() {
    let mut env = start().await;
    let plan = env.plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &plan, pb::BillingCycle::Monthly).await.unwrap().subscription.unwrap();
    env.clock.set(at(2, 15));
    env.faults.crash_after_charge.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(env.bill().await, 0, "the run died after the provider charged");
    assert_eq!(env.sandbox.charges_executed(), 2);
    assert_eq!(
        env.get_sub(&ana, &sub.subscription_id).await.current_period_start_time.unwrap().seconds,
        sub.current_period_start_time.unwrap().seconds
    );
    assert_eq!(env.bill().await, 1, "the next run renews");
    assert_eq!(env.sandbox.charges_executed(), 2, "with the provider's first charge");
    assert_eq!(env.count("SELECT count(*) FROM transactions WHERE status = 'SUCCEEDED'").await, 2);
}
