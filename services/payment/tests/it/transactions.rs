//! Transactions: admin refunds (partial, bounded, idempotent) and what they leave alone.

use crate::common::*;
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::authed;

#[tokio::test]
async fn refunds_are_partial_bounded_and_idempotent() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 980, 9800, "JPY", 0)
        .await;
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let charge = env
        .subscribe(&ana, &plan, pb::BillingCycle::Monthly)
        .await
        .unwrap()
        .transaction
        .unwrap();
    let admin = env.admin();
    let refund =
        |amount: Option<i64>, currency: &str, request_id: &str| pb::RefundTransactionRequest {
            transaction_id: charge.transaction_id.clone(),
            amount: amount.map(|a| money(a, currency)),
            reason: "goodwill".into(),
            request_id: request_id.into(),
        };
    let key = rid();
    let first = env
        .refund(&admin, refund(Some(300), "JPY", &key))
        .await
        .unwrap();
    let charged = first.refunded_transaction.unwrap();
    assert_eq!(
        charged.status,
        pb::TransactionStatus::PartiallyRefunded as i32
    );
    assert_eq!(charged.refunded_amount.unwrap().amount_minor, 300);
    let replay = env
        .refund(&admin, refund(Some(300), "JPY", &key))
        .await
        .unwrap();
    assert_eq!(
        replay.transaction.unwrap().transaction_id,
        first.transaction.unwrap().transaction_id,
        "replayed, not refunded twice"
    );

    for (amount, currency, code, reason) in [
        (
            Some(681),
            "JPY",
            Code::FailedPrecondition,
            Some("REFUND_EXCEEDS_REMAINING"),
        ),
        (Some(100), "USD", Code::InvalidArgument, None),
        (Some(0), "JPY", Code::InvalidArgument, None),
        (Some(-5), "JPY", Code::InvalidArgument, None),
        (Some(i64::MAX), "JPY", Code::InvalidArgument, None),
    ] {
        let status = env
            .refund(&admin, refund(amount, currency, &rid()))
            .await
            .unwrap_err();
        assert_status(&status, code, reason);
    }
    let rest = env.refund(&admin, refund(None, "", &rid())).await.unwrap();
    assert_eq!(rest.transaction.unwrap().amount.unwrap().amount_minor, 680);
    assert_eq!(
        rest.refunded_transaction.unwrap().status,
        pb::TransactionStatus::Refunded as i32
    );
    let status = env
        .refund(&admin, refund(Some(1), "JPY", &rid()))
        .await
        .unwrap_err();
    assert_status(&status, Code::FailedPrecondition, Some("NOT_REFUNDABLE"));
    let refunds = pb::ListTransactionsRequest {
        types: vec![pb::TransactionType::Refund as i32],
        ..Default::default()
    };
    assert_eq!(
        env.client
            .list_transactions(authed(refunds, &ana.token))
            .await
            .unwrap()
            .into_inner()
            .transactions
            .len(),
        2
    );
    // Refunding does not change the subscription or entitlement.
    assert_eq!(
        env.entitlement(&ana).await.tier,
        SubscriptionTier::Premium as i32
    );
}
