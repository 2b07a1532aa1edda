//! Every method has a policy, roles are enforced, and the service verifies tokens itself.

use crate::common::*;
use prost::Message;
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::{authed, hostile_tokens};

#[test]
fn every_payment_service_method_has_a_policy() {
    let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap();
    let service = set
        .file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f.package(), s)))
        .find(|(package, s)| format!("{package}.{}", s.name()) == tribe_payment::policy::SERVICE)
        .map(|(_, s)| s)
        .expect("PaymentService in descriptors");
    let policies = tribe_payment::policy::policies();
    for method in &service.method {
        let path = format!("/{}/{}", tribe_payment::policy::SERVICE, method.name());
        assert!(policies.get(&path).is_some(), "{path} has no policy");
    }
    assert_eq!(
        policies.paths().count(),
        service.method.len(),
        "no policy for a method that does not exist"
    );
    for internal in tribe_payment::policy::SURFACE.internal() {
        let path = format!("/{}/{internal}", tribe_payment::policy::SERVICE);
        assert_eq!(policies.get(&path), Some(tribe_kit::auth::Policy::Internal));
    }
    assert_eq!(
        policies.get("/trainertribe.payment.v1.PaymentService/NotAMethod"),
        None
    );
}

#[tokio::test]
async fn roles_are_enforced_and_hostile_tokens_refused() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let ana = env.user();

    // Anyone may read the catalogue; only admins may see inactive plans or manage plans.
    let plans = env
        .client
        .list_plans(pb::ListPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(plans.plans.len(), 1);
    let status = env
        .client
        .list_plans(authed(
            pb::ListPlansRequest {
                include_inactive: true,
                ..Default::default()
            },
            &ana.token,
        ))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let create = pb::CreatePlanRequest {
        plan: Some(plan.clone()),
        request_id: rid(),
    };
    assert_status(
        &env.client
            .create_plan(authed(create, &ana.token))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    let update = pb::UpdatePlanRequest {
        plan: Some(pb::Plan {
            active: false,
            ..plan.clone()
        }),
        update_mask: mask(&["active"]),
    };
    assert_status(
        &env.client
            .update_plan(authed(update, &ana.token))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    let refund = pb::RefundTransactionRequest {
        transaction_id: rid(),
        amount: None,
        reason: "because".into(),
        request_id: rid(),
    };
    assert_status(
        &env.client
            .refund_transaction(authed(refund, &ana.token))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );

    // GetEntitlement is internal: a user token is refused, a service credential works.
    let req = pb::GetEntitlementRequest {
        user_id: ana.id.clone(),
    };
    assert_status(
        &env.client
            .get_entitlement(authed(req.clone(), &ana.token))
            .await
            .unwrap_err(),
        Code::PermissionDenied,
        None,
    );
    let e = env
        .client
        .get_entitlement(authed(req, &env.keys.service_token()))
        .await
        .unwrap()
        .into_inner()
        .entitlement
        .unwrap();
    assert_eq!(e.tier, SubscriptionTier::Free as i32);
    assert!(e.subscription_id.is_empty());

    // A user call without a token.
    let status = env
        .client
        .list_payment_methods(pb::ListPaymentMethodsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    for (name, token) in hostile_tokens(&env.keys, &ana.id, "rt_not_an_access_token") {
        let add = pb::AddPaymentMethodRequest {
            provider: pb::PaymentProvider::Test as i32,
            provider_token: "tok_sandbox_visa".into(),
            set_default: false,
            request_id: rid(),
        };
        let status = env
            .client
            .add_payment_method(authed(add, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{name}: {status:?}");
    }
    assert_eq!(env.count("SELECT count(*) FROM payment_methods").await, 0);
}
