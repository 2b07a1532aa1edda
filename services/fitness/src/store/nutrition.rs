//! SQL of nutrition: the food table and nutrition items (bodies stored encoded).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A food with its values per 100 g.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FoodRow {
    pub id: String,
    pub name: String,
    pub kcal: i32,
    pub protein_g: f64,
    pub carbs_g: f64,
    pub fat_g: f64,
    pub fiber_g: f64,
    pub grams_per_piece: f64,
    pub grams_per_ml: f64,
    pub diet_tags: Vec<String>,
}

/// A food of a ListFoods page with its keyset position.
#[derive(Debug, sqlx::FromRow)]
pub struct ListedFood {
    #[sqlx(flatten)]
    pub food: FoodRow,
    /// 0 exact name match (or no query), 1 name prefix, 2 words inside the name.
    pub class: i32,
    pub lname: String,
}

/// A nutrition item; `body` is unset in lists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub difficulty: i32,
    pub is_premium: bool,
    pub tags: Vec<String>,
    pub category_ids: Vec<String>,
    pub thumbnail_url: String,
    pub diet_tags: Vec<String>,
    pub body: Option<Vec<u8>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub relevance: f64,
}

/// A new nutrition item.
#[derive(Debug)]
pub struct NewItem<'a> {
    pub id: Uuid,
    pub creator_id: Uuid,
    pub kind: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub difficulty: i32,
    pub is_premium: bool,
    pub tags: &'a [String],
    pub category_ids: &'a [String],
    pub thumbnail_url: &'a str,
    pub diet_tags: &'a [String],
    pub body: &'a [u8],
}

/// Filters of ListNutrition.
#[derive(Debug)]
pub struct ItemFilter<'a> {
    pub kind: Option<&'a str>,
    pub tags: &'a [String],
    pub diet_tags: &'a [String],
    pub premium: Option<bool>,
    pub creator: Option<Uuid>,
    pub query: &'a str,
}

const FOOD_COLUMNS: &str =
    "id, name, kcal, protein_g, carbs_g, fat_g, fiber_g, grams_per_piece, grams_per_ml, diet_tags";

/// The foods of `ids` that exist, by id.
pub async fn foods_by_ids(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<HashMap<String, FoodRow>> {
    let rows: Vec<FoodRow> = sqlx::query_as(&format!(
        "SELECT {FOOD_COLUMNS} FROM foods WHERE id = ANY ($1)"
    ))
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|f| (f.id.clone(), f)).collect())
}

/// Foods whose name contains every one of `patterns` (LIKE patterns, escaped), best
/// match for `query` first, then by name, after `after` (class, lower name, id).
pub async fn list_foods(
    conn: &mut PgConnection,
    query: &str,
    patterns: &[String],
    diet: Option<&str>,
    after: Option<(i32, String, String)>,
    limit: i64,
) -> sqlx::Result<Vec<ListedFood>> {
    let (class, lname, id) = match after {
        Some((c, n, i)) => (Some(c), Some(n), Some(i)),
        None => (None, None, None),
    };
    sqlx::query_as(&format!(
        "SELECT * FROM (
             SELECT {FOOD_COLUMNS}, lower(name) COLLATE \"C\" AS lname,
                    CASE WHEN $1 = '' OR lower(name) = $1 THEN 0
                         WHEN starts_with(lower(name), $1) THEN 1 ELSE 2 END AS class
               FROM foods
              WHERE NOT EXISTS (SELECT 1 FROM unnest($2::text[]) w
                                 WHERE lower(name) NOT LIKE '%' || w || '%')
                AND ($3::text IS NULL OR $3 = ANY (diet_tags))
         ) f
         WHERE ($4::int IS NULL OR (class, lname, id) > ($4, $5, $6))
         ORDER BY class, lname, id
         LIMIT $7"
    ))
    .bind(query)
    .bind(patterns)
    .bind(diet)
    .bind(class)
    .bind(lname)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, item: &NewItem<'_>, search: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO nutrition_items (id, creator_id, kind, title, summary, difficulty, is_premium,
                                      tags, category_ids, thumbnail_url, diet_tags, body, search)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, to_tsvector('english', $13))",
    )
    .bind(item.id)
    .bind(item.creator_id)
    .bind(item.kind)
    .bind(item.title)
    .bind(item.summary)
    .bind(item.difficulty)
    .bind(item.is_premium)
    .bind(item.tags)
    .bind(item.category_ids)
    .bind(item.thumbnail_url)
    .bind(item.diet_tags)
    .bind(item.body)
    .bind(search)
    .execute(conn)
    .await?;
    Ok(())
}

const ITEM_COLUMNS: &str =
    "id, creator_id, kind, title, summary, difficulty, is_premium, tags, category_ids,
        thumbnail_url, diet_tags, created_at, updated_at";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<ItemRow>> {
    sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS}, body, 0::float8 AS relevance FROM nutrition_items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Encoded bodies and diet tags of the RECIPE items among `ids`.
pub async fn recipes(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, (Vec<u8>, Vec<String>)>> {
    let rows: Vec<(Uuid, Vec<u8>, Vec<String>)> = sqlx::query_as(
        "SELECT id, body, diet_tags FROM nutrition_items WHERE id = ANY ($1) AND kind = 'recipe'",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(id, b, t)| (id, (b, t))).collect())
}

/// A page of items matching `filter`, best match first when there is a query, then
/// newest first, after `after` (relevance, created_at, id).
pub async fn list(
    conn: &mut PgConnection,
    filter: &ItemFilter<'_>,
    after: Option<(f64, DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<ItemRow>> {
    sqlx::query_as(&format!(
        "SELECT * FROM (
             SELECT {ITEM_COLUMNS}, NULL::bytea AS body,
                    CASE WHEN $6 = '' THEN 0::float8
                         ELSE ts_rank(search, plainto_tsquery('english', $6))::float8 END AS relevance
               FROM nutrition_items
              WHERE ($1::text IS NULL OR kind = $1)
                AND tags @> $2 AND diet_tags @> $3
                AND ($4::bool IS NULL OR is_premium = $4)
                AND ($5::uuid IS NULL OR creator_id = $5)
                AND ($6 = '' OR search @@ plainto_tsquery('english', $6))
         ) i
         WHERE ($7::float8 IS NULL OR (relevance, created_at, id) < ($7, $8, $9))
         ORDER BY relevance DESC, created_at DESC, id DESC
         LIMIT $10"
    ))
    .bind(filter.kind)
    .bind(filter.tags)
    .bind(filter.diet_tags)
    .bind(filter.premium)
    .bind(filter.creator)
    .bind(filter.query)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(limit)
    .fetch_all(conn)
    .await
}
