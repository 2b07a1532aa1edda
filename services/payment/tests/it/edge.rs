//! End to end through the real Envoy edge: the public catalogue without a token, a
//! subscription over gRPC-Web with one, and the internal GetEntitlement never routed.

use crate::common::*;
use tribe_infra::envoy::Upstream;
use tribe_payment::policy;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::{TestEdge, grpc_web};

const UNAUTHENTICATED: i32 = 16;
const UNIMPLEMENTED: i32 = 12;

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

#[tokio::test]
async fn subscribe_over_grpc_web_through_the_edge() {
    let mut env = start().await;
    let plan = env
        .plan(SubscriptionTier::Premium, 999, 9999, "EUR", 0)
        .await;
    let upstream = Upstream::for_surface(&policy::SURFACE, env.server.addr);
    let edge = TestEdge::start(upstream, &env.keys.jwks_path())
        .await
        .expect("start envoy");
    let url = edge.url();

    // The pricing page works without a token once the upstream is healthy.
    let plans = edge
        .first_answer::<_, pb::ListPlansResponse>(
            &path("ListPlans"),
            &pb::ListPlansRequest::default(),
            None,
        )
        .await
        .expect("the plans through the edge");
    assert_eq!(plans.plans[0].plan_id, plan.plan_id);

    let ana = env.user();
    let add = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "tok_sandbox_visa".into(),
        set_default: true,
        request_id: rid(),
    };
    let denied = grpc_web::call::<_, pb::AddPaymentMethodResponse>(
        &url,
        &path("AddPaymentMethod"),
        &add,
        None,
    )
    .await
    .unwrap();
    assert_eq!(denied.err().map(|e| e.0), Some(UNAUTHENTICATED));
    grpc_web::call::<_, pb::AddPaymentMethodResponse>(
        &url,
        &path("AddPaymentMethod"),
        &add,
        Some(&ana.token),
    )
    .await
    .unwrap()
    .unwrap();
    let create = pb::CreateSubscriptionRequest {
        plan_id: plan.plan_id.clone(),
        billing_cycle: pb::BillingCycle::Yearly as i32,
        payment_method_id: String::new(),
        request_id: rid(),
    };
    let created: pb::CreateSubscriptionResponse =
        grpc_web::call(&url, &path("CreateSubscription"), &create, Some(&ana.token))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        created.subscription.unwrap().status,
        pb::SubscriptionStatus::Active as i32
    );
    assert_eq!(
        created.transaction.unwrap().amount.unwrap().amount_minor,
        9999
    );

    // A valid service credential still cannot reach the internal method from outside.
    let request = pb::GetEntitlementRequest {
        user_id: ana.id.clone(),
    };
    let outcome = grpc_web::call::<_, pb::GetEntitlementResponse>(
        &url,
        &path("GetEntitlement"),
        &request,
        Some(&env.keys.service_token()),
    )
    .await
    .unwrap();
    let code = outcome.err().map(|e| e.0);
    assert!(
        matches!(code, Some(UNIMPLEMENTED) | Some(UNAUTHENTICATED)),
        "GetEntitlement reachable through the edge: {code:?}"
    );
    drop(edge);
}
