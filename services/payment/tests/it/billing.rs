//! The billing worker with an advanced clock: renewals, retries, expiry, cancellation at
//! period end, plan switches, trials, concurrent workers and the events they publish;
//! first charges the provider cannot settle at once (3-D Secure): the INCOMPLETE state,
//! its settlement, its 24-hour expiry and off-session renewals on such cards; and
//! monthly periods that keep their billing day through short months.

use std::time::Duration;

use crate::common::*;
use chrono::{TimeZone, Utc};
use tonic::Code;
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
async fn cancel_at_period_end_resume_and_immediate_cancel() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &plan, pb::BillingCycle::Yearly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    let canceling = env.cancel(&ana, &sub.subscription_id, false).await.unwrap();
    assert!(canceling.cancel_at_period_end);
    assert_eq!(canceling.status, pb::SubscriptionStatus::Active as i32);
    let resume = pb::ResumeSubscriptionRequest {
        subscription_id: sub.subscription_id.clone(),
        request_id: rid(),
    };
    let resumed = env
        .client
        .resume_subscription(authed(resume.clone(), &ana.token))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert!(!resumed.cancel_at_period_end);
    let status = env
        .client
        .resume_subscription(authed(
            pb::ResumeSubscriptionRequest {
                request_id: rid(),
                ..resume
            },
            &ana.token,
        ))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("NOT_CANCELING"));
    env.cancel(&ana, &sub.subscription_id, false).await.unwrap();
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Premium as i32,
        "kept until the period ends"
    );

    env.clock
        .set(Utc.with_ymd_and_hms(2027, 1, 15, 12, 0, 1).unwrap());
    assert_eq!(env.bill().await, 1);
    let ended = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(ended.status, pb::SubscriptionStatus::Canceled as i32);
    assert_eq!(
        env.count("SELECT count(*) FROM transactions").await,
        1,
        "no renewal charge"
    );
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Free as i32
    );
    let status = env
        .cancel(&ana, &sub.subscription_id, true)
        .await
        .unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("SUBSCRIPTION_ENDED"),
    );

    // A new subscription can start, and an immediate cancel ends it now.
    let again = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
    let canceled = env
        .cancel(&ana, &again.subscription_id, true)
        .await
        .unwrap();
    assert_eq!(canceled.status, pb::SubscriptionStatus::Canceled as i32);
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Free as i32
    );
}

#[tokio::test]
async fn upgrade_is_prorated_now_and_downgrade_waits_for_renewal() {
    let mut env = start().await;
    let premium = env
        .plan(SubscriptionTier::Premium, 1000, 10000, "USD", 0)
        .await;
    let pro = env.plan(SubscriptionTier::Pro, 2550, 25500, "USD", 0).await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &premium, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .subscription
        .unwrap();
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
    env.clock
        .set(Utc.with_ymd_and_hms(2026, 1, 30, 12, 0, 0).unwrap());
    let up = env.update_sub(&ana, update(&pro)).await.unwrap();
    assert_eq!(up.transaction.unwrap().amount.unwrap().amount_minor, 800);
    let upgraded = up.subscription.unwrap();
    assert_eq!(upgraded.tier, SubscriptionTier::Pro as i32);
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Pro as i32
    );

    let down = env.update_sub(&ana, update(&premium)).await.unwrap();
    assert!(down.transaction.is_none());
    let scheduled = down.subscription.unwrap();
    assert_eq!(
        scheduled.tier,
        SubscriptionTier::Pro as i32,
        "still Pro until the period ends"
    );
    assert_eq!(scheduled.scheduled_change.unwrap().plan_id, premium.plan_id);
    assert_eq!(scheduled.renewal_price.unwrap().amount_minor, 1000);

    let bad = pb::UpdateSubscriptionRequest {
        update_mask: mask(&["status"]),
        ..update(&premium)
    };
    assert_eq!(
        env.update_sub(&ana, bad).await.unwrap_err().code(),
        Code::InvalidArgument
    );

    env.clock.set(at(2, 15));
    assert_eq!(env.bill().await, 1);
    let renewed = env.get_sub(&ana, &sub.subscription_id).await;
    assert_eq!(renewed.plan_id, premium.plan_id);
    assert!(renewed.scheduled_change.is_none());
    let amounts: Vec<i64> =
        sqlx::query_scalar("SELECT amount_minor FROM transactions ORDER BY created_at, id")
            .fetch_all(&env.db.pool)
            .await
            .unwrap();
    assert_eq!(amounts, vec![1000, 800, 1000]);

    // Upgrade, scheduling the downgrade, and applying it each announce a change; the
    // scheduled one keeps Pro until it applies.
    let events =
        tribe_testkit::read_events(&env.kafka, "tribe.payment.v1", 8, Duration::from_secs(20))
            .await
            .unwrap();
    let changes: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.payload {
            Some(Payload::SubscriptionChanged(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 3, "{changes:#?}");
    assert_eq!(
        (
            changes[0].plan_id.as_str(),
            changes[0].scheduled_plan_id.as_str()
        ),
        (pro.plan_id.as_str(), "")
    );
    assert_eq!(
        (
            changes[1].plan_id.as_str(),
            changes[1].scheduled_plan_id.as_str()
        ),
        (pro.plan_id.as_str(), premium.plan_id.as_str())
    );
    assert_eq!(changes[1].entitlement_tier, SubscriptionTier::Pro as i32);
    assert_eq!(
        (
            changes[2].plan_id.as_str(),
            changes[2].scheduled_plan_id.as_str()
        ),
        (premium.plan_id.as_str(), "")
    );
    assert_eq!(
        changes[2].entitlement_tier,
        SubscriptionTier::Premium as i32
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

fn ts(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp()
}

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
