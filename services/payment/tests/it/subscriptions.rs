//! Subscriptions: CreateSubscription idempotency (concurrency, parameters, caller scope,
//! crash safety), declines, and what other users cannot see or change.

use std::sync::atomic::Ordering;

use crate::common::*;
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::authed;

fn create(plan: &pb::Plan, request_id: &str) -> pb::CreateSubscriptionRequest {
    pb::CreateSubscriptionRequest {
        plan_id: plan.plan_id.clone(),
        billing_cycle: pb::BillingCycle::Monthly as i32,
        payment_method_id: String::new(),
        request_id: request_id.into(),
    }
}

#[tokio::test]
async fn twenty_concurrent_creates_with_one_request_id_charge_once() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let key = rid();
    let calls = (0..20).map(|_| {
        let mut client = env.client.clone();
        let req = authed(create(&plan, &key), &ana.token);
        tokio::spawn(async move {
            client
                .create_subscription(req)
                .await
                .map(|r| r.into_inner().encode_to_vec())
        })
    });
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert!(
        results.iter().all(|r| r == &results[0]),
        "identical responses"
    );
    let first = pb::CreateSubscriptionResponse::decode(results[0].as_slice()).unwrap();
    let sub = first.subscription.unwrap();
    assert_eq!(sub.status, pb::SubscriptionStatus::Active as i32);
    assert_eq!(first.transaction.unwrap().amount.unwrap().amount_minor, 999);
    assert_eq!(env.count("SELECT count(*) FROM subscriptions").await, 1);
    assert_eq!(env.count("SELECT count(*) FROM transactions").await, 1);
    assert_eq!(
        env.sandbox.charges_executed(),
        1,
        "one charge at the provider"
    );

    // Same key, other parameters.
    let other = env.plan(SubscriptionTier::Pro, 1999, 19999, "USD", 0).await;
    let status = env.create_sub(&ana, &other, &key).await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    // A different key while subscribed.
    let status = env.create_sub(&ana, &plan, &rid()).await.unwrap_err();
    assert_status(&status, Code::AlreadyExists, Some("SUBSCRIPTION_EXISTS"));

    // Same key from another user: their own call, never Ana's result.
    let bob = env.user();
    let status = env.create_sub(&bob, &plan, &key).await.unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("NO_PAYMENT_METHOD"));
    env.add_method(&bob, "tok_sandbox_visa_bob").await;
    let bobs = env.create_sub(&bob, &plan, &key).await.unwrap();
    let bobs = bobs.subscription.unwrap();
    assert_eq!(bobs.user_id, bob.id);
    assert_ne!(bobs.subscription_id, sub.subscription_id);
    assert_eq!(env.sandbox.charges_executed(), 2);
}

#[tokio::test]
async fn a_crash_between_charge_and_commit_does_not_charge_twice() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let key = rid();
    env.faults.crash_after_charge.store(true, Ordering::SeqCst);
    let status = env.create_sub(&ana, &plan, &key).await.unwrap_err();
    assert_eq!(
        status.code(),
        Code::Internal,
        "the service died after the provider charged"
    );
    assert_eq!(env.sandbox.charges_executed(), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM subscriptions").await,
        0,
        "nothing committed"
    );

    let retried = env.create_sub(&ana, &plan, &key).await.unwrap();
    assert_eq!(
        retried.subscription.unwrap().status,
        pb::SubscriptionStatus::Active as i32
    );
    assert_eq!(
        env.sandbox.charges_executed(),
        1,
        "the retry got the first charge back from the provider"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM transactions WHERE status = 'SUCCEEDED'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable_and_the_retry_charges_once() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_unavailable").await;
    let key = rid();
    let status = env.create_sub(&ana, &plan, &key).await.unwrap_err();
    assert_status(&status, Code::Unavailable, Some("PROVIDER_UNAVAILABLE"));
    assert_eq!(env.count("SELECT count(*) FROM subscriptions").await, 0);
    assert_eq!(env.count("SELECT count(*) FROM transactions").await, 0);
    let retried = env.create_sub(&ana, &plan, &key).await.unwrap();
    assert_eq!(
        retried.subscription.unwrap().status,
        pb::SubscriptionStatus::Active as i32
    );
    assert_eq!(env.sandbox.charges_executed(), 1);
}

#[tokio::test]
async fn a_declined_first_charge_creates_no_subscription_and_replays() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_decline").await;
    let key = rid();
    let status = env.create_sub(&ana, &plan, &key).await.unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("PAYMENT_DECLINED"));
    let info = status.get_error_details().error_info().unwrap().clone();
    assert_eq!(
        info.metadata.get("failure_code").map(String::as_str),
        Some("card_declined")
    );
    let failed_id = info.metadata.get("transaction_id").cloned().unwrap();
    assert_eq!(env.count("SELECT count(*) FROM subscriptions").await, 0);
    let again = env.create_sub(&ana, &plan, &key).await.unwrap_err();
    assert_eq!(
        again
            .get_error_details()
            .error_info()
            .unwrap()
            .metadata
            .get("transaction_id"),
        Some(&failed_id),
        "the decline replays"
    );
    assert_eq!(env.sandbox.charges_executed(), 1);
    let list = env
        .client
        .list_transactions(authed(pb::ListTransactionsRequest::default(), &ana.token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.transactions.len(), 1);
    assert_eq!(
        list.transactions[0].status,
        pb::TransactionStatus::Failed as i32
    );
    assert!(list.transactions[0].subscription_id.is_empty());

    // An expired card fails the same way.
    let bob = env.user();
    env.add_method(&bob, "tok_sandbox_expired").await;
    let status = env.create_sub(&bob, &plan, &rid()).await.unwrap_err();
    assert_eq!(
        status
            .get_error_details()
            .error_info()
            .unwrap()
            .metadata
            .get("failure_code")
            .map(String::as_str),
        Some("expired_card")
    );
}

#[tokio::test]
async fn other_users_subscriptions_and_transactions_are_invisible() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();
    let bob = env.user();
    let card = env.add_method(&ana, "tok_sandbox_visa").await;
    let created = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap();
    let remove = pb::RemovePaymentMethodRequest {
        payment_method_id: card.payment_method_id.clone(),
    };
    let status = env
        .client
        .remove_payment_method(authed(remove, &ana.token))
        .await
        .unwrap_err();
    assert_status(
        &status,
        Code::FailedPrecondition,
        Some("PAYMENT_METHOD_IN_USE"),
    );
    let sub = created.subscription.unwrap();
    let charge = created.transaction.unwrap();
    use pb::get_subscription_request::Lookup;
    let by_id = pb::GetSubscriptionRequest {
        lookup: Some(Lookup::SubscriptionId(sub.subscription_id.clone())),
    };
    assert_eq!(
        env.client
            .get_subscription(authed(by_id.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let by_user = pb::GetSubscriptionRequest {
        lookup: Some(Lookup::UserId(ana.id.clone())),
    };
    assert_eq!(
        env.client
            .get_subscription(authed(by_user.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert_eq!(
        env.cancel(&bob, &sub.subscription_id, true)
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let update = pb::UpdateSubscriptionRequest {
        subscription: Some(pb::Subscription {
            subscription_id: sub.subscription_id.clone(),
            cancel_at_period_end: true,
            ..Default::default()
        }),
        update_mask: mask(&["cancel_at_period_end"]),
        request_id: rid(),
    };
    assert_eq!(
        env.update_sub(&bob, update).await.unwrap_err().code(),
        Code::NotFound
    );
    let resume = pb::ResumeSubscriptionRequest {
        subscription_id: sub.subscription_id.clone(),
        request_id: rid(),
    };
    assert_eq!(
        env.client
            .resume_subscription(authed(resume, &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let get_tx = pb::GetTransactionRequest {
        transaction_id: charge.transaction_id.clone(),
    };
    assert_eq!(
        env.client
            .get_transaction(authed(get_tx.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let list = pb::ListTransactionsRequest {
        user_id: ana.id.clone(),
        ..Default::default()
    };
    assert_eq!(
        env.client
            .list_transactions(authed(list.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    assert!(
        env.client
            .get_subscription(authed(pb::GetSubscriptionRequest::default(), &bob.token))
            .await
            .is_err()
    );

    // Ana and admins see it; nothing changed.
    let mine = env
        .client
        .get_subscription(authed(pb::GetSubscriptionRequest::default(), &ana.token))
        .await
        .unwrap()
        .into_inner();
    let mine = mine.subscription.unwrap();
    assert_eq!(mine.status, pb::SubscriptionStatus::Active as i32);
    assert!(!mine.cancel_at_period_end);
    let admin = env.admin();
    env.client
        .get_subscription(authed(by_user, &admin.token))
        .await
        .unwrap();
    env.client
        .get_transaction(authed(get_tx, &admin.token))
        .await
        .unwrap();
    assert_eq!(
        env.client
            .list_transactions(authed(list, &admin.token))
            .await
            .unwrap()
            .into_inner()
            .transactions
            .len(),
        1
    );
}
