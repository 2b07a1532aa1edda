//! Tests of ListNutrition and ListFoods: filters, search and pages.

use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::nutrition_item::Body;

use super::{close, create, ingredient, item, porridge, step};
use crate::common::{start, violated_fields};

#[tokio::test]
async fn list_nutrition_filters_and_pages() {
    let env = start().await;
    let (trainer, other) = (env.trainer(), env.trainer());
    let porridge = create(
        &env,
        &trainer,
        item("Banana porridge", Body::Recipe(porridge())),
    )
    .await
    .unwrap();
    let mut vegan = item(
        "Lentil soup",
        Body::Recipe(pb::Recipe {
            servings: 4,
            ingredients: vec![ingredient("red lentils", 250.0, "g", "red-lentils")],
            steps: vec![step("Boil.")],
            ..Default::default()
        }),
    );
    vegan.tags = vec!["soup".into()];
    let vegan = create(&env, &other, vegan).await.unwrap();
    let guide = create(
        &env,
        &trainer,
        item(
            "Hydration guide",
            Body::Guide(pb::Guide {
                sections: vec![pb::GuideSection {
                    heading: "Water".into(),
                    body: "Drink **water**.".into(),
                    ..Default::default()
                }],
            }),
        ),
    )
    .await
    .unwrap();
    let member = env.member();
    let list = |req: pb::ListNutritionRequest| {
        let mut client = env.client();
        let req = member.req(req);
        async move { client.list_nutrition(req).await }
    };
    let ids = |r: pb::ListNutritionResponse| {
        r.nutrition
            .into_iter()
            .map(|n| n.nutrition_id)
            .collect::<Vec<_>>()
    };
    let all = list(pb::ListNutritionRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        ids(all),
        vec![
            guide.nutrition_id.clone(),
            vegan.nutrition_id.clone(),
            porridge.nutrition_id.clone()
        ]
    );
    let recipes = list(pb::ListNutritionRequest {
        kind: pb::NutritionKind::Recipe as i32,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(recipes).len(), 2);
    let by_diet = list(pb::ListNutritionRequest {
        diet_tags: vec![pb::DietTag::Vegan as i32],
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(by_diet), vec![vegan.nutrition_id.clone()]);
    let by_tag = list(pb::ListNutritionRequest {
        tags: vec!["breakfast".into(), "high-fibre".into()],
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        ids(by_tag),
        vec![guide.nutrition_id.clone(), porridge.nutrition_id.clone()]
    );
    let by_creator = list(pb::ListNutritionRequest {
        creator_id: other.id_str(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(by_creator), vec![vegan.nutrition_id.clone()]);
    let by_text = list(pb::ListNutritionRequest {
        query: "lentils".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(by_text), vec![vegan.nutrition_id.clone()]);

    let first = list(pb::ListNutritionRequest {
        page_size: 2,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(first.nutrition.len(), 2);
    let second = list(pb::ListNutritionRequest {
        page_size: 2,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(ids(second.clone()), vec![porridge.nutrition_id.clone()]);
    assert!(second.next_page_token.is_empty());
    let status = list(pb::ListNutritionRequest {
        page_size: 2,
        kind: pb::NutritionKind::Guide as i32,
        page_token: first.next_page_token.clone(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_token"]);
    let status = list(pb::ListNutritionRequest {
        page_size: -5,
        query: "x".repeat(101),
        tags: (0..11).map(|i| format!("t{i}")).collect(),
        diet_tags: vec![pb::DietTag::Unspecified as i32],
        ..Default::default()
    })
    .await
    .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["diet_tags[0]", "page_size", "query", "tags"]);
}

#[tokio::test]
async fn list_foods_searches_filters_and_pages() {
    let env = start().await;
    let member = env.member();
    let list = |req: pb::ListFoodsRequest| {
        let mut client = env.client();
        let req = member.req(req);
        async move { client.list_foods(req).await }
    };
    let oats = list(pb::ListFoodsRequest {
        query: "oats".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(oats.foods[0].food_id, "rolled-oats");
    let per_100g = oats.foods[0].per_100g.unwrap();
    assert_eq!(per_100g.calories, 379);
    close(per_100g.protein_grams, 13.2);
    let eggs = list(pb::ListFoodsRequest {
        query: "Eggs".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(eggs.foods[0].food_id, "egg");
    close(eggs.foods[0].grams_per_piece, 50.0);
    let chicken = list(pb::ListFoodsRequest {
        query: "chicken breast".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(
        chicken
            .foods
            .iter()
            .map(|f| f.food_id.as_str())
            .collect::<Vec<_>>(),
        vec!["chicken-breast"]
    );

    // Every food, alphabetically, in pages.
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListFoodsRequest {
            page_size: 25,
            page_token: token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
        names.extend(page.foods.iter().map(|f| f.name.to_lowercase()));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(names.len() >= 50, "{}", names.len());
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted);

    let vegan = list(pb::ListFoodsRequest {
        diet_tag: pb::DietTag::Vegan as i32,
        page_size: 100,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let ids: Vec<&str> = vegan.foods.iter().map(|f| f.food_id.as_str()).collect();
    assert!(ids.contains(&"firm-tofu") && ids.contains(&"rolled-oats"));
    assert!(!ids.contains(&"egg") && !ids.contains(&"whole-milk") && !ids.contains(&"honey"));
    assert!(
        vegan
            .foods
            .iter()
            .all(|f| f.diet_tags.contains(&(pb::DietTag::Vegan as i32)))
    );

    let status = list(pb::ListFoodsRequest {
        query: "x".repeat(101),
        page_size: -1,
        ..Default::default()
    })
    .await
    .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(fields, vec!["page_size", "query"]);
    let first = list(pb::ListFoodsRequest {
        page_size: 2,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let status = list(pb::ListFoodsRequest {
        page_size: 2,
        query: "a".into(),
        page_token: first.next_page_token,
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["page_token"]);
}
