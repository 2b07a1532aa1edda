//! Validation of nutrition bodies and the values computed from the food table: grams
//! and per-serving macros of recipes, meal and day macros of meal plans, diet tags.

use std::collections::{BTreeSet, HashMap, HashSet};

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::{ApiError, Violations};
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::nutrition_item::Body;
use uuid::Uuid;

use crate::service::fields::{https_url, optional_text, required_text};
use crate::store::nutrition::{self as store, FoodRow};

/// A checked body with its computed fields, and the diets it fits.
pub(crate) struct Checked {
    pub body: Body,
    pub diet_tags: Vec<String>,
}

/// Checks `body` (recording every violation) and computes its output fields.
pub(crate) async fn check(
    conn: &mut PgConnection,
    v: &mut Violations,
    body: Option<&Body>,
) -> Result<Option<Checked>, ApiError> {
    Ok(match body {
        None => {
            v.add(
                "nutrition.body",
                "exactly one of recipe, meal_plan or guide is required",
            );
            None
        }
        Some(Body::Recipe(r)) => {
            let (recipe, diet_tags) = recipe(conn, v, "nutrition.recipe", r).await?;
            Some(Checked {
                body: Body::Recipe(recipe),
                diet_tags,
            })
        }
        Some(Body::MealPlan(m)) => {
            let (plan, diet_tags) = meal_plan(conn, v, m).await?;
            Some(Checked {
                body: Body::MealPlan(plan),
                diet_tags,
            })
        }
        Some(Body::Guide(g)) => {
            guide(v, g);
            Some(Checked {
                body: Body::Guide(g.clone()),
                diet_tags: Vec::new(),
            })
        }
    })
}

fn count(v: &mut Violations, field: &str, len: usize, max: usize) {
    if len == 0 || len > max {
        v.add(field, format!("must have 1-{max} entries"));
    }
}

fn range_i32(v: &mut Violations, field: &str, value: i32, min: i32, max: i32) {
    if !(min..=max).contains(&value) {
        v.add(field, format!("must be between {min} and {max}"));
    }
}

fn range_f64(v: &mut Violations, field: &str, value: f64, min: f64, max: f64) {
    if !(value.is_finite() && value >= min && value <= max) {
        v.add(field, format!("must be between {min} and {max}"));
    }
}

/// Grams rounded to 0.1 g.
fn tenth(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The grams of `quantity` `unit` of `food`; `None` when the food cannot be weighed
/// in that unit.
fn grams(quantity: f64, unit: &str, food: &FoodRow) -> Option<f64> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "g" => Some(quantity),
        "kg" => Some(quantity * 1000.0),
        "ml" if food.grams_per_ml > 0.0 => Some(quantity * food.grams_per_ml),
        "l" if food.grams_per_ml > 0.0 => Some(quantity * 1000.0 * food.grams_per_ml),
        "" | "piece" | "pieces" if food.grams_per_piece > 0.0 => {
            Some(quantity * food.grams_per_piece)
        }
        _ => None,
    }
}

/// Sums of energy and macros in full precision.
#[derive(Default, Clone, Copy)]
struct Sum {
    kcal: f64,
    protein: f64,
    carbs: f64,
    fat: f64,
    fiber: f64,
}

impl Sum {
    fn add_food(&mut self, food: &FoodRow, grams: f64) {
        let f = grams / 100.0;
        self.kcal += f64::from(food.kcal) * f;
        self.protein += food.protein_g * f;
        self.carbs += food.carbs_g * f;
        self.fat += food.fat_g * f;
        self.fiber += food.fiber_g * f;
    }

    fn add_macros(&mut self, m: &pb::Macros, times: f64) {
        self.kcal += f64::from(m.calories) * times;
        self.protein += m.protein_grams * times;
        self.carbs += m.carbs_grams * times;
        self.fat += m.fat_grams * times;
        self.fiber += m.fiber_grams * times;
    }

    fn macros(self, divisor: f64) -> pb::Macros {
        pb::Macros {
            calories: (self.kcal / divisor).round() as i32,
            protein_grams: tenth(self.protein / divisor),
            carbs_grams: tenth(self.carbs / divisor),
            fat_grams: tenth(self.fat / divisor),
            fiber_grams: tenth(self.fiber / divisor),
        }
    }
}

/// Intersection of the diet tag sets; empty for no sets.
fn intersect<'a>(mut sets: impl Iterator<Item = &'a [String]>) -> Vec<String> {
    let Some(first) = sets.next() else {
        return Vec::new();
    };
    let mut common: BTreeSet<String> = first.iter().cloned().collect();
    for set in sets {
        common.retain(|t| set.contains(t));
    }
    common.into_iter().collect()
}

async fn recipe(
    conn: &mut PgConnection,
    v: &mut Violations,
    f: &str,
    r: &pb::Recipe,
) -> Result<(pb::Recipe, Vec<String>), ApiError> {
    range_i32(v, &format!("{f}.servings"), r.servings, 1, 100);
    range_i32(v, &format!("{f}.prep_seconds"), r.prep_seconds, 0, 86400);
    range_i32(v, &format!("{f}.cook_seconds"), r.cook_seconds, 0, 86400);
    count(v, &format!("{f}.ingredients"), r.ingredients.len(), 50);
    count(v, &format!("{f}.steps"), r.steps.len(), 50);
    let ids: Vec<String> = r
        .ingredients
        .iter()
        .filter(|i| !i.food_id.is_empty())
        .map(|i| i.food_id.clone())
        .collect();
    let foods = store::foods_by_ids(conn, &ids).await?;
    let mut sum = Sum::default();
    let mut used: Vec<&FoodRow> = Vec::new();
    let mut ingredients = Vec::with_capacity(r.ingredients.len());
    for (i, ing) in r.ingredients.iter().enumerate() {
        let p = format!("{f}.ingredients[{i}]");
        required_text(v, &format!("{p}.name"), &ing.name, 100);
        optional_text(v, &format!("{p}.unit"), &ing.unit, 20);
        optional_text(v, &format!("{p}.notes"), &ing.notes, 200);
        range_f64(v, &format!("{p}.quantity"), ing.quantity, 0.0, 100_000.0);
        let food = foods.get(&ing.food_id);
        if !ing.food_id.is_empty() && food.is_none() {
            v.add(format!("{p}.food_id"), "unknown food");
        }
        let mut weight = 0.0;
        if ing.quantity > 0.0 {
            if ing.food_id.is_empty() {
                v.add(
                    format!("{p}.food_id"),
                    "is required when quantity is greater than 0",
                );
            }
            if let Some(food) = food {
                match grams(ing.quantity, &ing.unit, food) {
                    Some(g) => weight = g,
                    None => v.add(
                        format!("{p}.unit"),
                        format!("{} cannot be measured in \"{}\"", food.name, ing.unit),
                    ),
                }
            }
        }
        if let Some(food) = food {
            sum.add_food(food, weight);
            used.push(food);
        }
        ingredients.push(pb::Ingredient {
            grams: tenth(weight),
            ..ing.clone()
        });
    }
    for (i, step) in r.steps.iter().enumerate() {
        let p = format!("{f}.steps[{i}]");
        required_text(v, &format!("{p}.instruction"), &step.instruction, 1000);
        https_url(v, &format!("{p}.image_url"), &step.image_url);
    }
    let servings = f64::from(r.servings.clamp(1, 100));
    let diet = intersect(used.iter().map(|f| f.diet_tags.as_slice()));
    Ok((
        pb::Recipe {
            ingredients,
            macros_per_serving: Some(sum.macros(servings)),
            ..r.clone()
        },
        diet,
    ))
}

fn check_macros(v: &mut Violations, f: &str, m: &pb::Macros) {
    range_i32(v, &format!("{f}.calories"), m.calories, 0, 20000);
    range_f64(
        v,
        &format!("{f}.protein_grams"),
        m.protein_grams,
        0.0,
        2000.0,
    );
    range_f64(v, &format!("{f}.carbs_grams"), m.carbs_grams, 0.0, 2000.0);
    range_f64(v, &format!("{f}.fat_grams"), m.fat_grams, 0.0, 2000.0);
    range_f64(v, &format!("{f}.fiber_grams"), m.fiber_grams, 0.0, 500.0);
}

async fn meal_plan(
    conn: &mut PgConnection,
    v: &mut Violations,
    m: &pb::MealPlan,
) -> Result<(pb::MealPlan, Vec<String>), ApiError> {
    let f = "nutrition.meal_plan";
    count(v, &format!("{f}.days"), m.days.len(), 90);
    if let Some(target) = &m.daily_target {
        check_macros(v, &format!("{f}.daily_target"), target);
    }
    let mut wanted = Vec::new();
    for (d, day) in m.days.iter().enumerate() {
        for (i, meal) in day.meals.iter().enumerate() {
            if !meal.recipe_nutrition_id.is_empty() {
                match Uuid::try_parse(&meal.recipe_nutrition_id) {
                    Ok(id) => wanted.push(id),
                    Err(_) => v.add(
                        format!("{f}.days[{d}].meals[{i}].recipe_nutrition_id"),
                        "is not a valid id",
                    ),
                }
            }
        }
    }
    let mut recipes: HashMap<Uuid, (pb::Macros, Vec<String>)> = HashMap::new();
    for (id, (bytes, tags)) in store::recipes(conn, &wanted).await? {
        let recipe = pb::Recipe::decode(bytes.as_slice()).map_err(ApiError::internal)?;
        recipes.insert(id, (recipe.macros_per_serving.unwrap_or_default(), tags));
    }
    let mut numbers = HashSet::new();
    let mut every_meal_has_recipe = true;
    let mut diets: Vec<&[String]> = Vec::new();
    let mut days = Vec::with_capacity(m.days.len());
    for (d, day) in m.days.iter().enumerate() {
        let p = format!("{f}.days[{d}]");
        range_i32(v, &format!("{p}.day_number"), day.day_number, 1, 90);
        if !numbers.insert(day.day_number) {
            v.add(format!("{p}.day_number"), "duplicate day_number");
        }
        count(v, &format!("{p}.meals"), day.meals.len(), 10);
        let mut total = Sum::default();
        let mut meals = Vec::with_capacity(day.meals.len());
        for (i, meal) in day.meals.iter().enumerate() {
            let q = format!("{p}.meals[{i}]");
            match pb::MealType::try_from(meal.meal_type) {
                Ok(pb::MealType::Unspecified) => v.add(format!("{q}.meal_type"), "is required"),
                Ok(_) => {}
                Err(_) => v.add(format!("{q}.meal_type"), "unknown meal type"),
            }
            required_text(v, &format!("{q}.title"), &meal.title, 100);
            optional_text(v, &format!("{q}.description"), &meal.description, 1000);
            if meal.servings != 0.0 {
                range_f64(v, &format!("{q}.servings"), meal.servings, 0.25, 20.0);
            }
            let servings = if meal.servings == 0.0 {
                1.0
            } else {
                meal.servings
            };
            let recipe = Uuid::try_parse(&meal.recipe_nutrition_id)
                .ok()
                .and_then(|id| recipes.get(&id));
            let macros = if meal.recipe_nutrition_id.is_empty() {
                every_meal_has_recipe = false;
                let given = meal.macros.unwrap_or_default();
                check_macros(v, &format!("{q}.macros"), &given);
                given
            } else if let Some((per_serving, tags)) = recipe {
                diets.push(tags.as_slice());
                let mut s = Sum::default();
                s.add_macros(per_serving, servings);
                s.macros(1.0)
            } else {
                v.add(format!("{q}.recipe_nutrition_id"), "no such recipe");
                pb::Macros::default()
            };
            total.add_macros(&macros, 1.0);
            meals.push(pb::Meal {
                macros: Some(macros),
                ..meal.clone()
            });
        }
        days.push(pb::MealPlanDay {
            day_number: day.day_number,
            meals,
            total: Some(total.macros(1.0)),
        });
    }
    let diet = if every_meal_has_recipe {
        intersect(diets.into_iter())
    } else {
        Vec::new()
    };
    Ok((
        pb::MealPlan {
            days,
            daily_target: m.daily_target,
        },
        diet,
    ))
}

fn guide(v: &mut Violations, g: &pb::Guide) {
    count(v, "nutrition.guide.sections", g.sections.len(), 50);
    for (i, s) in g.sections.iter().enumerate() {
        let p = format!("nutrition.guide.sections[{i}]");
        optional_text(v, &format!("{p}.heading"), &s.heading, 200);
        required_text(v, &format!("{p}.body"), &s.body, 20000);
        if has_raw_html(&s.body) {
            v.add(format!("{p}.body"), "must not contain raw HTML");
        }
        https_url(v, &format!("{p}.image_url"), &s.image_url);
    }
}

/// Whether CommonMark text contains a raw HTML tag, comment, declaration or processing
/// instruction (autolinks such as `<https://x>` are not HTML).
fn has_raw_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| {
        if *b != b'<' {
            return false;
        }
        let rest = &bytes[i + 1..];
        if rest.starts_with(b"!--")
            || rest.first() == Some(&b'?')
            || (rest.first() == Some(&b'!') && rest.get(1).is_some_and(u8::is_ascii_alphabetic))
        {
            return true;
        }
        let name = rest.strip_prefix(b"/").unwrap_or(rest);
        let len = name
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
            .count();
        len > 0
            && name[0].is_ascii_alphabetic()
            && matches!(
                name.get(len),
                Some(b' ' | b'\t' | b'\n' | b'\r' | b'/' | b'>')
            )
    })
}
