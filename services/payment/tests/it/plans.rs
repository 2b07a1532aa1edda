//! Plans, money validation, payment methods and the card-number guard.

use crate::common::*;
use tonic::Code;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use tribe_testkit::authed;

fn plan(monthly: (i64, &str), yearly: (i64, &str)) -> pb::Plan {
    pb::Plan {
        name: "Premium".into(),
        description: "All the premium things".into(),
        tier: SubscriptionTier::Premium as i32,
        monthly_price: Some(money(monthly.0, monthly.1)),
        yearly_price: Some(money(yearly.0, yearly.1)),
        features: vec!["premium_posts".into()],
        active: true,
        trial_days: 0,
        ..Default::default()
    }
}

#[tokio::test]
async fn plan_money_edge_cases() {
    let mut env = start().await;
    let admin = env.admin();
    let create = |p: pb::Plan| {
        let mut client = env.client.clone();
        let token = admin.token.clone();
        async move { client.create_plan(authed(pb::CreatePlanRequest { plan: Some(p), request_id: rid() }, &token)).await }
    };
    for (case, p, field) in [
        ("negative", plan((-1, "USD"), (1000, "USD")), "plan.monthly_price"),
        ("zero", plan((0, "USD"), (1000, "USD")), "plan.monthly_price"),
        ("overflow", plan((999, "USD"), (i64::MAX, "USD")), "plan.yearly_price"),
        ("currency mismatch", plan((999, "USD"), (9999, "EUR")), "plan.yearly_price"),
        ("unknown currency", plan((999, "XYZ"), (9999, "XYZ")), "plan.monthly_price"),
        ("lower-case currency", plan((999, "usd"), (9999, "usd")), "plan.monthly_price"),
    ] {
        let status = create(p).await.unwrap_err();
        assert!(violated_fields(&status).contains(&field.to_string()), "{case}: {status:?}");
    }
    let mut bad = plan((999, "USD"), (9999, "USD"));
    bad.tier = SubscriptionTier::Free as i32;
    bad.name = String::new();
    bad.trial_days = 91;
    bad.features = vec!["Not Valid".into()];
    let fields = violated_fields(&create(bad).await.unwrap_err());
    for f in ["plan.tier", "plan.name", "plan.trial_days", "plan.features"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    assert_eq!(env.count("SELECT count(*) FROM plans").await, 0, "nothing stored");

    // JPY has no minor unit: 980 means ¥980.
    let jpy = create(plan((980, "JPY"), (9800, "JPY"))).await.unwrap().into_inner().plan.unwrap();
    assert_eq!(jpy.monthly_price.as_ref().unwrap().amount_minor, 980);

    // The currency of a plan is immutable; prices can change.
    let change = |p: pb::Plan, paths: &[&str]| pb::UpdatePlanRequest { plan: Some(p), update_mask: mask(paths) };
    let mut eur = jpy.clone();
    eur.monthly_price = Some(money(500, "EUR"));
    let status = env.client.update_plan(authed(change(eur, &["monthly_price"]), &admin.token)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = env.client.update_plan(authed(change(jpy.clone(), &["tier"]), &admin.token)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "tier is immutable");
    let mut cheaper = jpy.clone();
    cheaper.monthly_price = Some(money(780, "JPY"));
    cheaper.active = false;
    let updated = env
        .client
        .update_plan(authed(change(cheaper, &["monthly_price", "active"]), &admin.token))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(updated.monthly_price.unwrap().amount_minor, 780);
    assert!(!updated.active);

    // Inactive plans are hidden from the public list but readable by id and by admins.
    let public = env.client.list_plans(pb::ListPlansRequest::default()).await.unwrap().into_inner();
    assert!(public.plans.is_empty());
    let all =
        env.client.list_plans(authed(pb::ListPlansRequest { include_inactive: true, ..Default::default() }, &admin.token)).await.unwrap();
    assert_eq!(all.into_inner().plans.len(), 1);
    env.client.get_plan(pb::GetPlanRequest { plan_id: jpy.plan_id.clone() }).await.unwrap();
    let status = env.client.list_plans(pb::ListPlansRequest { page_size: -1, ..Default::default() }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn plans_page_by_tier_then_age() {
    let mut env = start().await;
    let pro = env.plan(SubscriptionTier::Pro, 1999, 19999, "USD", 0).await;
    let premium1 = env.plan(SubscriptionTier::Premium, 999, 9999, "USD", 0).await;
    let premium2 = env.plan(SubscriptionTier::Premium, 899, 8999, "EUR", 0).await;
    let first = env.client.list_plans(pb::ListPlansRequest { page_size: 2, ..Default::default() }).await.unwrap().into_inner();
    let ids: Vec<_> = first.plans.iter().map(|p| p.plan_id.clone()).collect();
    assert_eq!(ids, vec![premium1.plan_id.clone(), premium2.plan_id.clone()]);
    let second = env
        .client
        .list_plans(pb::ListPlansRequest { page_size: 2, page_token: first.next_page_token.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.plans[0].plan_id, pro.plan_id);
    assert!(second.next_page_token.is_empty());
    let status = env
        .client
        .list_plans(pb::ListPlansRequest {
            page_size: 2,
            page_token: first.next_page_token,
            currency_code: "USD".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "changed filter");
    let eur = env.client.list_plans(pb::ListPlansRequest { currency_code: "EUR".into(), ..Default::default() }).await.unwrap().into_inner();
    assert_eq!(eur.plans.len(), 1);
}

#[tokio::test]
async fn card_numbers_are_rejected_and_stored_nowhere() {
    let mut env = start().await;
    let ana = env.user();
    for pan in ["4242424242424242", "4242 4242 4242 4242", "4000-0566-5566-5556", "pm_378282246310005"] {
        let add = pb::AddPaymentMethodRequest {
            provider: pb::PaymentProvider::Test as i32,
            provider_token: pan.into(),
            set_default: false,
            request_id: rid(),
        };
        let status = env.client.add_payment_method(authed(add, &ana.token)).await.unwrap_err();
        assert_status(&status, Code::InvalidArgument, Some("PAN_REJECTED"));
        assert!(!status.message().contains("4242") && !status.message().contains("5556"), "the error does not echo the number");
    }
    env.add_method(&ana, "tok_sandbox_visa").await;
    // No table holds the digits, in text or in bytes (outbox payloads, idempotency records).
    let tables: Vec<String> = sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
        .fetch_all(&env.db.pool)
        .await
        .unwrap();
    assert!(tables.len() >= 6);
    for table in tables {
        for needle in ["4242424242424242", "378282246310005", "4000056655665556", "34323432343234323432343234323432"] {
            let sql = format!("SELECT count(*) FROM \"{table}\" t WHERE replace(replace(t::text, ' ', ''), '-', '') LIKE '%{needle}%'");
            let hits: i64 = sqlx::query_scalar(&sql).fetch_one(&env.db.pool).await.unwrap();
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
    assert_eq!((visa.brand.as_str(), visa.last4.as_str(), visa.exp_month), ("visa", "4242", 12));
    let add = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "tok_sandbox_mastercard".into(),
        set_default: false,
        request_id: rid(),
    };
    let mc = env.client.add_payment_method(authed(add.clone(), &ana.token)).await.unwrap().into_inner().payment_method.unwrap();
    assert!(!mc.is_default);
    let replay = env.client.add_payment_method(authed(add, &ana.token)).await.unwrap().into_inner().payment_method.unwrap();
    assert_eq!(replay.payment_method_id, mc.payment_method_id, "same request_id replays");

    let stripe = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Stripe as i32,
        provider_token: "pm_abc".into(),
        set_default: false,
        request_id: rid(),
    };
    assert_eq!(env.client.add_payment_method(authed(stripe, &ana.token)).await.unwrap_err().code(), Code::InvalidArgument);
    let bogus = pb::AddPaymentMethodRequest {
        provider: pb::PaymentProvider::Test as i32,
        provider_token: "tok_unknown".into(),
        set_default: false,
        request_id: rid(),
    };
    assert_status(
        &env.client.add_payment_method(authed(bogus, &ana.token)).await.unwrap_err(),
        Code::FailedPrecondition,
        Some("TOKEN_REJECTED"),
    );

    let lister = env.client.clone();
    let list = |user: &User, user_id: &str| {
        let mut client = lister.clone();
        let req = authed(pb::ListPaymentMethodsRequest { user_id: user_id.into(), page_size: 0, page_token: String::new() }, &user.token);
        async move { client.list_payment_methods(req).await }
    };
    let mine = list(&ana, "").await.unwrap().into_inner().payment_methods;
    assert_eq!(
        mine.iter().map(|m| m.payment_method_id.clone()).collect::<Vec<_>>(),
        vec![visa.payment_method_id.clone(), mc.payment_method_id.clone()]
    );

    // Bob sees nothing of Ana's and can change nothing.
    assert_eq!(list(&bob, &ana.id).await.unwrap_err().code(), Code::NotFound);
    assert!(list(&bob, "").await.unwrap().into_inner().payment_methods.is_empty());
    let set = pb::SetDefaultPaymentMethodRequest { payment_method_id: mc.payment_method_id.clone() };
    assert_eq!(env.client.set_default_payment_method(authed(set.clone(), &bob.token)).await.unwrap_err().code(), Code::NotFound);
    let remove = pb::RemovePaymentMethodRequest { payment_method_id: visa.payment_method_id.clone() };
    assert_eq!(env.client.remove_payment_method(authed(remove.clone(), &bob.token)).await.unwrap_err().code(), Code::NotFound);
    let admin = env.admin();
    assert_eq!(list(&admin, &ana.id).await.unwrap().into_inner().payment_methods.len(), 2, "admins may read");

    let now_default = env.client.set_default_payment_method(authed(set, &ana.token)).await.unwrap().into_inner().payment_method.unwrap();
    assert!(now_default.is_default);
    assert_eq!(env.count("SELECT count(*) FROM payment_methods WHERE is_default").await, 1);
    let remove_default = pb::RemovePaymentMethodRequest { payment_method_id: mc.payment_method_id.clone() };
    env.client.remove_payment_method(authed(remove_default, &ana.token)).await.unwrap();
    let mine = list(&ana, "").await.unwrap().into_inner().payment_methods;
    assert_eq!(mine.len(), 1);
    assert!(mine[0].is_default, "the remaining method became the default");
}

#[tokio::test]
async fn the_default_catalogue_is_created_once_and_only_into_an_empty_one() {
    let mut env = start().await;
    let (a, b) = tokio::join!(env.service.seed_default_plans(), env.service.seed_default_plans());
    assert_eq!(a.unwrap() + b.unwrap(), 2, "two instances starting together create it once");
    assert_eq!(env.service.seed_default_plans().await.unwrap(), 0);
    let plans = env.client.list_plans(pb::ListPlansRequest::default()).await.unwrap().into_inner().plans;
    let summary: Vec<_> = plans
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.tier,
                p.monthly_price.as_ref().unwrap().amount_minor,
                p.monthly_price.as_ref().unwrap().currency_code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![("Premium", SubscriptionTier::Premium as i32, 999, "EUR"), ("Pro", SubscriptionTier::Pro as i32, 1999, "EUR")]
    );
    assert!(plans.iter().all(|p| p.active && p.features.contains(&"premium_posts".to_string())));

    // A member can subscribe to it straight away.
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env.subscribe(&ana, &plans[0], pb::BillingCycle::Yearly).await.unwrap();
    assert_eq!(sub.transaction.unwrap().amount.unwrap().amount_minor, 9_990);

    // An operator's own catalogue is never touched.
    let mut other = start().await;
    other.plan(SubscriptionTier::Pro, 500, 5000, "USD", 0).await;
    assert_eq!(other.service.seed_default_plans().await.unwrap(), 0);
    assert_eq!(other.count("SELECT count(*) FROM plans").await, 1);
}
