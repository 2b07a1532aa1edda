//! Tests of nutrition: macros computed from the seeded food table, meal plan totals,
//! diet tags, validation, premium gating and the food search.

mod lists;

use tonic::Code;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::nutrition_item::Body;

use crate::common::{Env, Person, assert_status, request_id, start, violated_fields};

fn ingredient(name: &str, quantity: f64, unit: &str, food_id: &str) -> pb::Ingredient {
    pb::Ingredient {
        name: name.into(),
        quantity,
        unit: unit.into(),
        food_id: food_id.into(),
        ..Default::default()
    }
}

fn step(text: &str) -> pb::RecipeStep {
    pb::RecipeStep {
        instruction: text.into(),
        ..Default::default()
    }
}

/// Banana porridge for two: 80 g oats, 250 ml whole milk, one banana, cinnamon to taste.
fn porridge() -> pb::Recipe {
    pb::Recipe {
        servings: 2,
        prep_seconds: 120,
        cook_seconds: 300,
        ingredients: vec![
            ingredient("rolled oats", 80.0, "g", "rolled-oats"),
            ingredient("whole milk", 250.0, "ml", "whole-milk"),
            ingredient("banana", 1.0, "piece", "banana"),
            ingredient("cinnamon", 0.0, "", ""),
        ],
        steps: vec![
            step("Simmer the oats in the milk."),
            step("Slice the banana on top."),
        ],
        // Output only: ignored.
        macros_per_serving: Some(pb::Macros {
            calories: 1,
            ..Default::default()
        }),
    }
}

fn item(title: &str, body: Body) -> pb::NutritionItem {
    pb::NutritionItem {
        title: title.into(),
        summary: "Simple and filling".into(),
        tags: vec!["breakfast".into(), "high-fibre".into()],
        category_ids: vec!["meal-prep".into()],
        body: Some(body),
        ..Default::default()
    }
}

async fn create(
    env: &Env,
    who: &Person,
    item: pb::NutritionItem,
) -> Result<pb::NutritionItem, tonic::Status> {
    env.client()
        .create_nutrition(who.req(pb::CreateNutritionRequest {
            nutrition: Some(item),
            request_id: String::new(),
        }))
        .await
        .map(|r| r.into_inner().nutrition.expect("item"))
}

async fn get(env: &Env, who: &Person, id: &str) -> Result<pb::NutritionItem, tonic::Status> {
    env.client()
        .get_nutrition(who.req(pb::GetNutritionRequest {
            nutrition_id: id.into(),
        }))
        .await
        .map(|r| r.into_inner().nutrition.expect("item"))
}

fn recipe_of(item: &pb::NutritionItem) -> &pb::Recipe {
    match &item.body {
        Some(Body::Recipe(r)) => r,
        other => panic!("not a recipe: {other:?}"),
    }
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

fn assert_macros(m: &pb::Macros, calories: i32, protein: f64, carbs: f64, fat: f64, fiber: f64) {
    assert_eq!(m.calories, calories, "{m:?}");
    close(m.protein_grams, protein);
    close(m.carbs_grams, carbs);
    close(m.fat_grams, fat);
    close(m.fiber_grams, fiber);
}

#[tokio::test]
async fn recipe_macros_and_diets_come_from_the_food_table() {
    let env = start().await;
    let trainer = env.trainer();
    let created = create(
        &env,
        &trainer,
        item("Banana porridge", Body::Recipe(porridge())),
    )
    .await
    .unwrap();
    assert_eq!(created.kind, pb::NutritionKind::Recipe as i32);
    // Per 100 g: oats 379 kcal 13.2 P 67.7 C 6.5 F 10.1 fibre; whole milk (1.03 g/ml)
    // 61 / 3.2 / 4.8 / 3.3 / 0; banana (118 g a piece) 89 / 1.1 / 22.8 / 0.3 / 2.6.
    // 80 g + 257.5 g + 118 g = 565.295 kcal, 20.098 P, 93.424 C, 14.0515 F, 11.148
    // fibre; halved for two servings.
    let recipe = recipe_of(&created);
    assert_macros(
        recipe.macros_per_serving.as_ref().unwrap(),
        283,
        10.0,
        46.7,
        7.0,
        5.6,
    );
    let grams: Vec<f64> = recipe.ingredients.iter().map(|i| i.grams).collect();
    assert_eq!(grams, vec![80.0, 257.5, 118.0, 0.0]);
    // Oats are not gluten-free, milk is not dairy-free or vegan.
    assert_eq!(
        created.diet_tags,
        vec![pb::DietTag::Vegetarian as i32, pb::DietTag::NutFree as i32]
    );
    let read = get(&env, &env.member(), &created.nutrition_id)
        .await
        .unwrap();
    assert_eq!(read, created);

    // Vegan and gluten-free when every food is.
    let salad = pb::Recipe {
        servings: 1,
        ingredients: vec![
            ingredient("chickpeas", 0.2, "kg", "chickpeas-cooked"),
            ingredient("olive oil", 10.0, "ml", "olive-oil"),
            ingredient("tomatoes", 2.0, "", "tomato"),
        ],
        steps: vec![step("Mix.")],
        ..Default::default()
    };
    let salad = create(&env, &trainer, item("Chickpea salad", Body::Recipe(salad)))
        .await
        .unwrap();
    // 200 g chickpeas + 9.1 g oil + 246 g tomato.
    let m = recipe_of(&salad).macros_per_serving.unwrap();
    assert_eq!(m.calories, (328.0f64 + 80.444 + 44.28).round() as i32);
    assert_eq!(
        salad.diet_tags,
        vec![
            pb::DietTag::Vegetarian as i32,
            pb::DietTag::Vegan as i32,
            pb::DietTag::GlutenFree as i32,
            pb::DietTag::DairyFree as i32,
            pb::DietTag::NutFree as i32,
        ]
    );
}

#[tokio::test]
async fn meal_plans_total_their_meals() {
    let env = start().await;
    let trainer = env.trainer();
    let recipe = create(
        &env,
        &trainer,
        item("Banana porridge", Body::Recipe(porridge())),
    )
    .await
    .unwrap();
    let guide = create(
        &env,
        &trainer,
        item(
            "Protein basics",
            Body::Guide(pb::Guide {
                sections: vec![pb::GuideSection {
                    body: "Eat enough protein.".into(),
                    ..Default::default()
                }],
            }),
        ),
    )
    .await
    .unwrap();
    let meal =
        |kind: pb::MealType, recipe_id: &str, servings: f64, macros: Option<pb::Macros>| pb::Meal {
            meal_type: kind as i32,
            title: "Meal".into(),
            recipe_nutrition_id: recipe_id.into(),
            servings,
            macros,
            ..Default::default()
        };
    let lunch = pb::Macros {
        calories: 600,
        protein_grams: 40.0,
        carbs_grams: 50.0,
        fat_grams: 20.0,
        fiber_grams: 8.0,
    };
    let bogus = pb::Macros {
        calories: 9999,
        ..Default::default()
    };
    let plan = pb::MealPlan {
        days: vec![
            pb::MealPlanDay {
                day_number: 1,
                meals: vec![
                    meal(
                        pb::MealType::Breakfast,
                        &recipe.nutrition_id,
                        2.0,
                        Some(bogus),
                    ),
                    meal(pb::MealType::Lunch, "", 0.0, Some(lunch)),
                ],
                ..Default::default()
            },
            pb::MealPlanDay {
                day_number: 2,
                meals: vec![meal(
                    pb::MealType::Breakfast,
                    &recipe.nutrition_id,
                    0.0,
                    None,
                )],
                ..Default::default()
            },
        ],
        daily_target: None,
    };
    let created = create(
        &env,
        &trainer,
        item("Two days", Body::MealPlan(plan.clone())),
    )
    .await
    .unwrap();
    let Some(Body::MealPlan(out)) = &created.body else {
        panic!("not a meal plan");
    };
    // Two servings of 283 kcal, 10.0 P, 46.7 C, 7.0 F, 5.6 fibre.
    assert_macros(
        out.days[0].meals[0].macros.as_ref().unwrap(),
        566,
        20.0,
        93.4,
        14.0,
        11.2,
    );
    assert_macros(
        out.days[0].meals[1].macros.as_ref().unwrap(),
        600,
        40.0,
        50.0,
        20.0,
        8.0,
    );
    assert_macros(
        out.days[0].total.as_ref().unwrap(),
        1166,
        60.0,
        143.4,
        34.0,
        19.2,
    );
    assert_macros(
        out.days[1].total.as_ref().unwrap(),
        283,
        10.0,
        46.7,
        7.0,
        5.6,
    );
    assert_eq!(created.kind, pb::NutritionKind::MealPlan as i32);
    // A meal without a recipe: no diet can be vouched for.
    assert!(created.diet_tags.is_empty());

    let only_recipes = pb::MealPlan {
        days: vec![plan.days[1].clone()],
        daily_target: None,
    };
    let created = create(
        &env,
        &trainer,
        item("One day", Body::MealPlan(only_recipes)),
    )
    .await
    .unwrap();
    assert_eq!(created.diet_tags, recipe.diet_tags);

    // Unknown recipes and non-recipe items are refused.
    let bad = pb::MealPlan {
        days: vec![pb::MealPlanDay {
            day_number: 1,
            meals: vec![
                meal(
                    pb::MealType::Dinner,
                    &uuid::Uuid::now_v7().to_string(),
                    1.0,
                    None,
                ),
                meal(pb::MealType::Dinner, &guide.nutrition_id, 1.0, None),
                meal(pb::MealType::Unspecified, "", 30.0, None),
            ],
            ..Default::default()
        }],
        daily_target: None,
    };
    let status = create(&env, &trainer, item("Bad", Body::MealPlan(bad)))
        .await
        .unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "nutrition.meal_plan.days[0].meals[0].recipe_nutrition_id",
            "nutrition.meal_plan.days[0].meals[1].recipe_nutrition_id",
            "nutrition.meal_plan.days[0].meals[2].meal_type",
            "nutrition.meal_plan.days[0].meals[2].servings",
        ]
    );
}

#[tokio::test]
async fn create_collects_every_violation() {
    let env = start().await;
    let trainer = env.trainer();
    let recipe = pb::Recipe {
        servings: 0,
        ingredients: vec![
            ingredient("unobtainium", 10.0, "g", "unobtainium"),
            ingredient("egg", 100.0, "ml", "egg"),
            ingredient("chicken", 1.0, "piece", "chicken-breast"),
            ingredient("salt", 5.0, "g", ""),
            ingredient("", -1.0, "g", "egg"),
        ],
        steps: vec![],
        ..Default::default()
    };
    let mut bad = item(" ", Body::Recipe(recipe));
    bad.tags = vec!["High Protein".into(), "ok".into(), "ok".into()];
    bad.category_ids = vec!["no-such-category".into()];
    bad.thumbnail_url = "ftp://example.com/x.png".into();
    let status = create(&env, &trainer, bad).await.unwrap_err();
    let mut fields = violated_fields(&status);
    fields.sort();
    let mut expected = vec![
        "nutrition.title",
        "nutrition.tags[0]",
        "nutrition.tags[2]",
        "nutrition.category_ids[0]",
        "nutrition.thumbnail_url",
        "nutrition.recipe.servings",
        "nutrition.recipe.steps",
        "nutrition.recipe.ingredients[0].food_id",
        "nutrition.recipe.ingredients[1].unit",
        "nutrition.recipe.ingredients[2].unit",
        "nutrition.recipe.ingredients[3].food_id",
        "nutrition.recipe.ingredients[4].name",
        "nutrition.recipe.ingredients[4].quantity",
    ];
    expected.sort();
    assert_eq!(fields, expected);

    // No body at all.
    let mut empty = item("Nothing", Body::Guide(pb::Guide::default()));
    empty.body = None;
    let status = create(&env, &trainer, empty).await.unwrap_err();
    assert_eq!(violated_fields(&status), vec!["nutrition.body"]);
    // A guide with raw HTML and no sections elsewhere.
    let html = item(
        "Html",
        Body::Guide(pb::Guide {
            sections: vec![pb::GuideSection {
                body: "Hello <script>alert(1)</script>".into(),
                ..Default::default()
            }],
        }),
    );
    let status = create(&env, &trainer, html).await.unwrap_err();
    assert_eq!(
        violated_fields(&status),
        vec!["nutrition.guide.sections[0].body"]
    );

    let status = create(&env, &env.member(), item("Mine", Body::Recipe(porridge())))
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, None);
    let listed = env
        .client()
        .list_nutrition(trainer.req(pb::ListNutritionRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(listed.nutrition.is_empty());
}

#[tokio::test]
async fn create_replays_a_request_id() {
    let env = start().await;
    let trainer = env.trainer();
    let key = request_id();
    let call = |title: &str| {
        let mut client = env.client();
        let req = trainer.req(pb::CreateNutritionRequest {
            nutrition: Some(item(title, Body::Recipe(porridge()))),
            request_id: key.clone(),
        });
        async move { client.create_nutrition(req).await }
    };
    let first = call("Porridge").await.unwrap().into_inner();
    let again = call("Porridge").await.unwrap().into_inner();
    assert_eq!(first, again);
    let status = call("Other porridge").await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, Some("REQUEST_ID_REUSED"));
    let listed = env
        .client()
        .list_nutrition(trainer.req(pb::ListNutritionRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.nutrition.len(), 1);
}

#[tokio::test]
async fn premium_items_need_premium_to_read() {
    let env = start().await;
    let trainer = env.trainer();
    let mut premium = item("Cutting plan recipe", Body::Recipe(porridge()));
    premium.is_premium = true;
    let premium = create(&env, &trainer, premium).await.unwrap();
    let status = get(&env, &env.member(), &premium.nutrition_id)
        .await
        .unwrap_err();
    assert_status(&status, Code::PermissionDenied, Some("PREMIUM_REQUIRED"));
    assert!(
        get(&env, &env.premium_member(), &premium.nutrition_id)
            .await
            .unwrap()
            .body
            .is_some()
    );
    assert!(
        get(&env, &trainer, &premium.nutrition_id)
            .await
            .unwrap()
            .body
            .is_some()
    );
    assert!(
        get(&env, &env.admin(), &premium.nutrition_id)
            .await
            .unwrap()
            .body
            .is_some()
    );
    // Listed for everyone, without bodies.
    let listed = env
        .client()
        .list_nutrition(env.member().req(pb::ListNutritionRequest {
            premium_filter: pb::PremiumFilter::PremiumOnly as i32,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.nutrition.len(), 1);
    assert!(listed.nutrition[0].body.is_none());
    assert!(listed.nutrition[0].is_premium);
    let status = get(&env, &env.member(), &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_status(&status, Code::NotFound, None);
    let status = get(&env, &env.member(), "x").await.unwrap_err();
    assert_status(&status, Code::InvalidArgument, None);
}
