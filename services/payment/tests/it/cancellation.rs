//! Cancellation: at the period end (kept until then, resumable, ended by the billing
//! worker without a renewal charge) and immediate.

use crate::common::*;
use chrono::{TimeZone, Utc};
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::authed;

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
