//! Payment methods: the card-number guard, the default, listing, removal and ownership.

use crate::common::*;
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_testkit::authed;

#[tokio::test]
async fn card_numbers_are_rejected_and_stored_nowhere() {
    let mut env = start().await;
    let ana = env.user();
    for pan in [
        "4242424242424242",
        "4242 4242 4242 4242",
        "4000-0566-5566-5556",
        "pm_378282246310005",
    ] {
        let add = pb::AddPaymentMethodRequest {
            provider: pb::PaymentProvider::Test as i32,
            provider_token: pan.into(),
            set_default: false,
            request_id: rid(),
        };
        let status = env
            .client
            .add_payment_method(authed(add, &ana.token))
            .await
            .unwrap_err();
        assert_status(&status, Code::InvalidArgument, Some("PAN_REJECTED"));
        assert!(
            !status.message().contains("4242") && !status.message().contains("5556"),
            "the error does not echo the number"
        );
    }
    env.add_method(&ana, "tok_sandbox_visa").await;
    // No table holds the digits, in text or in bytes (outbox payloads, idempotency records).
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&env.db.pool)
    .await
    .unwrap();
    assert!(tables.len() >= 6);
    for table in tables {
        for needle in [
            "4242424242424242",
            "378282246310005",
            "4000056655665556",
            "34323432343234323432343234323432",
        ] {
            let sql = format!(
                "SELECT count(*) FROM \"{table}\" t WHERE replace(replace(t::text, ' ', ''), '-', '') LIKE '%{needle}%'"
            );
            let hits: i64 = sqlx::query_scalar(&sql)
                .fetch_one(&env.db.pool)
                .await
                .unwrap();
            assert_eq!(hits, 0, "{needle} found in {table}");
        }
    }
}

#[tokio::test]
async fn payment_methods_default_list_remove_and_bola() {
    let mut env = start().await;
    let ana = env.user();
    let bob = env.user();
    let visa = env.add_method(&ana, "tok_sandbox_visa").await;
    assert!(visa.is_default, "the first method is the default");
    assert_eq!(
        (visa.brand.as_str(), visa.last4.as_str(), visa.exp_month),
        ("visa", "4242", 12)
    );
    let add = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "tok_sandbox_mastercard".into(),
        set_default: false,
        request_id: rid(),
    };
    let mc = env
        .client
        .add_payment_method(authed(add.clone(), &ana.token))
        .await
        .unwrap()
        .into_inner()
        .payment_method
        .unwrap();
    assert!(!mc.is_default);
    let replay = env
        .client
        .add_payment_method(authed(add, &ana.token))
        .await
        .unwrap()
        .into_inner()
        .payment_method
        .unwrap();
    assert_eq!(
        replay.payment_method_id, mc.payment_method_id,
        "same request_id replays"
    );

    let stripe = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Stripe as i32,
        provider_token: "pm_abc".into(),
        set_default: false,
        request_id: rid(),
    };
    assert_eq!(
        env.client
            .add_payment_method(authed(stripe, &ana.token))
            .await
            .unwrap_err()
            .code(),
        Code::InvalidArgument
    );
    let bogus = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "tok_unknown".into(),
        set_default: false,
        request_id: rid(),
    };
    assert_status(
        &env.client
            .add_payment_method(authed(bogus, &ana.token))
            .await
            .unwrap_err(),
        Code::FailedPrecondition,
        Some("TOKEN_REJECTED"),
    );

    let mine = env.list_methods(&ana, "").await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|m| m.payment_method_id.clone())
            .collect::<Vec<_>>(),
        vec![visa.payment_method_id.clone(), mc.payment_method_id.clone()]
    );

    // Bob sees nothing of Ana's and can change nothing.
    assert_eq!(
        env.list_methods(&bob, &ana.id).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(env.list_methods(&bob, "").await.unwrap().is_empty());
    let set = pb::SetDefaultPaymentMethodRequest {
        payment_method_id: mc.payment_method_id.clone(),
    };
    assert_eq!(
        env.client
            .set_default_payment_method(authed(set.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let remove = pb::RemovePaymentMethodRequest {
        payment_method_id: visa.payment_method_id.clone(),
    };
    assert_eq!(
        env.client
            .remove_payment_method(authed(remove.clone(), &bob.token))
            .await
            .unwrap_err()
            .code(),
        Code::NotFound
    );
    let admin = env.admin();
    assert_eq!(
        env.list_methods(&admin, &ana.id).await.unwrap().len(),
        2,
        "admins may read"
    );

    let now_default = env
        .client
        .set_default_payment_method(authed(set, &ana.token))
        .await
        .unwrap()
        .into_inner()
        .payment_method
        .unwrap();
    assert!(now_default.is_default);
    assert_eq!(
        env.count("SELECT count(*) FROM payment_methods WHERE is_default")
            .await,
        1
    );
    let remove_default = pb::RemovePaymentMethodRequest {
        payment_method_id: mc.payment_method_id.clone(),
    };
    env.client
        .remove_payment_method(authed(remove_default, &ana.token))
        .await
        .unwrap();
    let mine = env.list_methods(&ana, "").await.unwrap();
    assert_eq!(mine.len(), 1);
    assert!(
        mine[0].is_default,
        "the remaining method became the default"
    );
}
