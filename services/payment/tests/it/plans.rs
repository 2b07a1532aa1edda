//! Plans: the public catalogue, money validation, updates and the default catalogue.

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
    for (case, p, field) in [
        (
            "negative",
            plan((-1, "USD"), (1000, "USD")),
            "plan.monthly_price",
        ),
        (
            "zero",
            plan((0, "USD"), (1000, "USD")),
            "plan.monthly_price",
        ),
        (
            "overflow",
            plan((999, "USD"), (i64::MAX, "USD")),
            "plan.yearly_price",
        ),
        (
            "currency mismatch",
            plan((999, "USD"), (9999, "EUR")),
            "plan.yearly_price",
        ),
        (
            "unknown currency",
            plan((999, "XYZ"), (9999, "XYZ")),
            "plan.monthly_price",
        ),
        (
            "lower-case currency",
            plan((999, "usd"), (9999, "usd")),
            "plan.monthly_price",
        ),
    ] {
        let status = env.create_plan(&admin, p).await.unwrap_err();
        assert!(
            violated_fields(&status).contains(&field.to_string()),
            "{case}: {status:?}"
        );
    }
    let mut bad = plan((999, "USD"), (9999, "USD"));
    bad.tier = SubscriptionTier::Free as i32;
    bad.name = String::new();
    bad.trial_days = 91;
    bad.features = vec!["Not Valid".into()];
    let fields = violated_fields(&env.create_plan(&admin, bad).await.unwrap_err());
    for f in ["plan.tier", "plan.name", "plan.trial_days", "plan.features"] {
        assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM plans").await,
        0,
        "nothing stored"
    );

    // JPY has no minor unit: 980 means ¥980.
    let jpy = env
        .create_plan(&admin, plan((980, "JPY"), (9800, "JPY")))
        .await
        .unwrap();
    assert_eq!(jpy.monthly_price.as_ref().unwrap().amount_minor, 980);

    // The currency of a plan is immutable; prices can change.
    let change = |p: pb::Plan, paths: &[&str]| pb::UpdatePlanRequest {
        plan: Some(p),
        update_mask: mask(paths),
    };
    let mut eur = jpy.clone();
    eur.monthly_price = Some(money(500, "EUR"));
    let status = env
        .client
        .update_plan(authed(change(eur, &["monthly_price"]), &admin.token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = env
        .client
        .update_plan(authed(change(jpy.clone(), &["tier"]), &admin.token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "tier is immutable");
    let mut cheaper = jpy.clone();
    cheaper.monthly_price = Some(money(780, "JPY"));
    cheaper.active = false;
    let updated = env
        .client
        .update_plan(authed(
            change(cheaper, &["monthly_price", "active"]),
            &admin.token,
        ))
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(updated.monthly_price.unwrap().amount_minor, 780);
    assert!(!updated.active);

    // Inactive plans are hidden from the public list but readable by id and by admins.
    let public = env
        .client
        .list_plans(pb::ListPlansRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(public.plans.is_empty());
    let all = env
        .client
        .list_plans(authed(
            pb::ListPlansRequest {
                include_inactive: true,
                ..Default::default()
            },
            &admin.token,
        ))
        .await
        .unwrap();
    assert_eq!(all.into_inner().plans.len(), 1);
    env.client
        .get_plan(pb::GetPlanRequest {
            plan_id: jpy.plan_id.clone(),
        })
        .await
        .unwrap();
    let status = env
        .client
        .list_plans(pb::ListPlansRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn plans_page_by_tier_then_age() {
    let mut env = start().await;
    let pro = env.plan(SubscriptionTier::Pro, 1999, 19999, "USD", 0).await;
    let premium1 = env
        .plan(SubscriptionTier::Premium, 999, 9999, "USD", 0)
        .await;
    let premium2 = env
        .plan(SubscriptionTier::Premium, 899, 8999, "EUR", 0)
        .await;
    let first = env
        .client
        .list_plans(pb::ListPlansRequest {
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<_> = first.plans.iter().map(|p| p.plan_id.clone()).collect();
    assert_eq!(
        ids,
        vec![premium1.plan_id.clone(), premium2.plan_id.clone()]
    );
    let second = env
        .client
        .list_plans(pb::ListPlansRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
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
    let eur = env
        .client
        .list_plans(pb::ListPlansRequest {
            currency_code: "EUR".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(eur.plans.len(), 1);
}

#[tokio::test]
async fn the_default_catalogue_is_created_once_and_only_into_an_empty_one() {
    let mut env = start().await;
    let (a, b) = tokio::join!(
        env.service.seed_default_plans(),
        env.service.seed_default_plans()
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        2,
        "two instances starting together create it once"
    );
    assert_eq!(env.service.seed_default_plans().await.unwrap(), 0);
    let plans = env
        .client
        .list_plans(pb::ListPlansRequest::default())
        .await
        .unwrap()
        .into_inner()
        .plans;
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
        vec![
            ("Premium", SubscriptionTier::Premium as i32, 999, "EUR"),
            ("Pro", SubscriptionTier::Pro as i32, 1999, "EUR")
        ]
    );
    assert!(
        plans
            .iter()
            .all(|p| p.active && p.features.contains(&"premium_posts".to_string()))
    );

    // A member can subscribe to it straight away.
    let ana = env.user();
    env.add_method(&ana, "tok_sandbox_visa").await;
    let sub = env
        .subscribe(&ana, &plans[0], pb::BillingCycle::Yearly)
        .await
        .unwrap();
    assert_eq!(sub.transaction.unwrap().amount.unwrap().amount_minor, 9_990);

    // An operator's own catalogue is never touched.
    let mut other = start().await;
    other.plan(SubscriptionTier::Pro, 500, 5000, "USD", 0).await;
    assert_eq!(other.service.seed_default_plans().await.unwrap(), 0);
    assert_eq!(other.count("SELECT count(*) FROM plans").await, 1);
}
