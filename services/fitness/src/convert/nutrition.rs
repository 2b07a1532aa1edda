//! Nutrition: stored diet tags and kinds, foods and items <-> proto messages.

use prost::Message;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::nutrition_item::Body;
use tribe_proto::r#type::v1::UserSummary;

use super::timestamp;
use crate::store::nutrition::{FoodRow, ItemRow};

/// The stored name of a diet tag; `None` for UNSPECIFIED and unknown values.
pub fn diet_name(tag: i32) -> Option<&'static str> {
    Some(match pb::DietTag::try_from(tag).ok()? {
        pb::DietTag::Unspecified => return None,
        pb::DietTag::Vegetarian => "vegetarian",
        pb::DietTag::Vegan => "vegan",
        pb::DietTag::GlutenFree => "gluten_free",
        pb::DietTag::DairyFree => "dairy_free",
        pb::DietTag::NutFree => "nut_free",
    })
}

/// Stored diet tags as proto values, in enum order.
pub fn diet_values(names: &[String]) -> Vec<i32> {
    let mut values: Vec<i32> = names
        .iter()
        .filter_map(|n| match n.as_str() {
            "vegetarian" => Some(pb::DietTag::Vegetarian),
            "vegan" => Some(pb::DietTag::Vegan),
            "gluten_free" => Some(pb::DietTag::GlutenFree),
            "dairy_free" => Some(pb::DietTag::DairyFree),
            "nut_free" => Some(pb::DietTag::NutFree),
            _ => None,
        })
        .map(|t| t as i32)
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

/// The stored kind of a body.
pub fn kind_name(body: &Body) -> &'static str {
    match body {
        Body::Recipe(_) => "recipe",
        Body::MealPlan(_) => "meal_plan",
        Body::Guide(_) => "guide",
    }
}

/// The stored kind of a filter value: `Some(None)` for UNSPECIFIED (any), `None` for
/// unknown values.
pub fn kind_filter(kind: i32) -> Option<Option<&'static str>> {
    Some(match pb::NutritionKind::try_from(kind).ok()? {
        pb::NutritionKind::Unspecified => None,
        pb::NutritionKind::Recipe => Some("recipe"),
        pb::NutritionKind::MealPlan => Some("meal_plan"),
        pb::NutritionKind::Guide => Some("guide"),
    })
}

fn kind_value(kind: &str) -> pb::NutritionKind {
    match kind {
        "recipe" => pb::NutritionKind::Recipe,
        "meal_plan" => pb::NutritionKind::MealPlan,
        "guide" => pb::NutritionKind::Guide,
        _ => pb::NutritionKind::Unspecified,
    }
}

/// Decodes a stored body of `kind`.
pub fn decode_body(kind: &str, bytes: &[u8]) -> Result<Body, prost::DecodeError> {
    Ok(match kind {
        "recipe" => Body::Recipe(pb::Recipe::decode(bytes)?),
        "meal_plan" => Body::MealPlan(pb::MealPlan::decode(bytes)?),
        _ => Body::Guide(pb::Guide::decode(bytes)?),
    })
}

/// Encodes a body for storage.
pub fn encode_body(body: &Body) -> Vec<u8> {
    match body {
        Body::Recipe(r) => r.encode_to_vec(),
        Body::MealPlan(m) => m.encode_to_vec(),
        Body::Guide(g) => g.encode_to_vec(),
    }
}

pub fn food(row: FoodRow) -> pb::Food {
    let FoodRow {
        id,
        name,
        kcal,
        protein_g,
        carbs_g,
        fat_g,
        fiber_g,
        grams_per_piece,
        grams_per_ml,
        diet_tags,
    } = row;
    pb::Food {
        food_id: id,
        name,
        per_100g: Some(pb::Macros {
            calories: kcal,
            protein_grams: protein_g,
            carbs_grams: carbs_g,
            fat_grams: fat_g,
            fiber_grams: fiber_g,
        }),
        grams_per_piece,
        grams_per_ml,
        diet_tags: diet_values(&diet_tags),
    }
}

/// An item; `body` is the decoded body (None in lists).
pub fn item(row: ItemRow, creator: UserSummary, body: Option<Body>) -> pb::NutritionItem {
    let ItemRow {
        id,
        creator_id: _,
        kind,
        title,
        summary,
        difficulty,
        is_premium,
        tags,
        category_ids,
        thumbnail_url,
        diet_tags,
        body: _,
        created_at,
        updated_at,
        relevance: _,
    } = row;
    pb::NutritionItem {
        nutrition_id: id.to_string(),
        kind: kind_value(&kind) as i32,
        title,
        summary,
        creator: Some(creator),
        difficulty,
        is_premium,
        tags,
        category_ids,
        thumbnail_url,
        body,
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        diet_tags: diet_values(&diet_tags),
    }
}
