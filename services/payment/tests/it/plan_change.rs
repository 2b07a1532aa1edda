//! Plan changes of UpdateSubscription: an upgrade charged now with the prorated
//! difference, a downgrade scheduled for and applied at the renewal, and the
//! SubscriptionChanged events of each step.

use std::time::Duration;

use crate::common::*;
use chrono::{TimeZone, Utc};
use tonic::Code;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;

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
