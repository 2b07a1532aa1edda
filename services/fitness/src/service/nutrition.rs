//! Nutrition: recipes, meal plans and guides with macros computed from the food table.

mod body;

use std::collections::HashSet;

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{FilterHash, Key};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::fields::{self, Replay, bad_token};
use crate::convert::nutrition as convert;
use crate::store::nutrition::{self as store, ItemRow};

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateNutrition";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListNutrition";
const FOODS_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListFoods";
const MAX_QUERY: usize = 100;

fn not_found() -> ApiError {
    ApiError::not_found("nutrition item")
}

/// Free-form tags: at most 10 distinct, each 1-30 characters of [a-z0-9-].
fn check_tags(v: &mut Violations, field: &str, tags: &[String]) {
    if tags.len() > 10 {
        v.add(field, "at most 10 tags");
    }
    let mut seen = HashSet::new();
    for (i, tag) in tags.iter().enumerate() {
        let ok = (1..=30).contains(&tag.len())
            && tag
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            v.add(
                format!("{field}[{i}]"),
                "must be 1-30 characters of [a-z0-9-]",
            );
        } else if !seen.insert(tag.as_str()) {
            v.add(format!("{field}[{i}]"), "duplicate tag");
        }
    }
}

/// LIKE patterns of the query's words (escaped; a plural's trailing "s" dropped so
/// "eggs" finds "Egg").
fn word_patterns(query: &str) -> Vec<String> {
    query
        .split_whitespace()
        .map(|w| {
            let w = w.to_lowercase();
            let w = match w.strip_suffix('s') {
                Some(stem) if stem.chars().count() >= 3 => stem.to_string(),
                _ => w,
            };
            w.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        })
        .collect()
}

impl FitnessService {
    pub async fn create_nutrition(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateNutritionRequest,
    ) -> Result<pb::CreateNutritionResponse, ApiError> {
        fields::require_publisher(caller, "publish nutrition content")?;
        let n = req.nutrition.unwrap_or_default();
        let mut v = Violations::new();
        let params = pb::NutritionItem {
            title: n.title.clone(),
            summary: n.summary.clone(),
            difficulty: n.difficulty,
            is_premium: n.is_premium,
            tags: n.tags.clone(),
            category_ids: n.category_ids.clone(),
            thumbnail_url: n.thumbnail_url.clone(),
            body: n.body.clone(),
            ..Default::default()
        };
        let replay = Replay::new(&mut v, caller, CREATE_METHOD, &req.request_id, &params);
        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }
        fields::required_text(&mut v, "nutrition.title", &n.title, 100);
        fields::optional_text(&mut v, "nutrition.summary", &n.summary, 500);
        fields::optional_enum::<pb::Difficulty>(&mut v, "nutrition.difficulty", n.difficulty);
        fields::https_url(&mut v, "nutrition.thumbnail_url", &n.thumbnail_url);
        check_tags(&mut v, "nutrition.tags", &n.tags);
        fields::categories(&mut tx, &mut v, "nutrition.category_ids", &n.category_ids).await?;
        let checked = body::check(&mut tx, &mut v, n.body.as_ref()).await?;
        v.finish()?;
        let Some(checked) = checked else {
            return Err(ApiError::invalid_field("nutrition.body", "is required"));
        };

        let id = ids::new_id();
        let search = format!("{} {} {}", n.title, n.summary, n.tags.join(" "));
        store::insert(
            &mut tx,
            &store::NewItem {
                id,
                creator_id: caller.id(),
                kind: convert::kind_name(&checked.body),
                title: &n.title,
                summary: &n.summary,
                difficulty: n.difficulty,
                is_premium: n.is_premium,
                tags: &n.tags,
                category_ids: &n.category_ids,
                thumbnail_url: &n.thumbnail_url,
                diet_tags: &checked.diet_tags,
                body: &convert::encode_body(&checked.body),
            },
            &search,
        )
        .await?;
        let row = store::get(&mut tx, id).await?.ok_or_else(not_found)?;
        let creator = self.summaries(&[caller.id()]).await.remove(&caller.id());
        let response = pb::CreateNutritionResponse {
            nutrition: Some(convert::item(
                row,
                creator.unwrap_or_default(),
                Some(checked.body),
            )),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_nutrition(
        &self,
        caller: &UserPrincipal,
        req: pb::ListNutritionRequest,
    ) -> Result<pb::ListNutritionResponse, ApiError> {
        let mut v = Violations::new();
        let kind = convert::kind_filter(req.kind);
        if kind.is_none() {
            v.add("kind", "unknown kind");
        }
        if req.tags.len() > 10 {
            v.add("tags", "at most 10 tags");
        }
        if req.diet_tags.len() > 5 {
            v.add("diet_tags", "at most 5 diet tags");
        }
        let mut diets = Vec::new();
        for (i, tag) in req.diet_tags.iter().enumerate() {
            match convert::diet_name(*tag) {
                Some(name) => diets.push(name.to_string()),
                None => v.add(format!("diet_tags[{i}]"), "must be a known diet"),
            }
        }
        let premium = fields::premium_filter(&mut v, req.premium_filter);
        let creator = fields::optional_id(&mut v, "creator_id", &req.creator_id);
        let query = req.query.trim();
        fields::optional_text(&mut v, "query", query, MAX_QUERY);
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let Some(kind) = kind else {
            return Err(ApiError::invalid_field("kind", "unknown kind"));
        };
        let filters = FilterHash::new()
            .add("kind", req.kind.to_be_bytes())
            .add("tags", req.tags.join("\u{1f}"))
            .add("diet_tags", diets.join(","))
            .add("premium", req.premium_filter.to_be_bytes())
            .add("creator", req.creator_id.as_bytes())
            .add("query", query);
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = fields::score_time_id_cursor(pager.keys(&req.page_token)?)?;
        let filter = store::ItemFilter {
            kind,
            tags: &req.tags,
            diet_tags: &diets,
            premium,
            creator,
            query,
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &filter, after, pager.fetch()).await?;
        drop(conn);
        let token = pager.next_token(&mut rows, |r: &ItemRow| {
            fields::score_time_id_keys(r.relevance, r.created_at, r.id)
        });
        let creators: Vec<Uuid> = rows.iter().map(|r| r.creator_id).collect();
        let summaries = self.summaries(&creators).await;
        Ok(pb::ListNutritionResponse {
            nutrition: rows
                .into_iter()
                .map(|r| {
                    let creator = summaries.get(&r.creator_id).cloned().unwrap_or_default();
                    convert::item(r, creator, None)
                })
                .collect(),
            next_page_token: token,
        })
    }

    pub async fn get_nutrition(
        &self,
        caller: &UserPrincipal,
        req: pb::GetNutritionRequest,
    ) -> Result<pb::GetNutritionResponse, ApiError> {
        let id = ids::parse_id("nutrition_id", &req.nutrition_id)?;
        let mut conn = self.pool.acquire().await?;
        let mut row = store::get(&mut conn, id).await?.ok_or_else(not_found)?;
        drop(conn);
        self.premium_gate(caller, row.is_premium, row.creator_id)
            .await?;
        let bytes = row.body.take().unwrap_or_default();
        let body = convert::decode_body(&row.kind, &bytes).map_err(ApiError::internal)?;
        let creator = self
            .summaries(&[row.creator_id])
            .await
            .remove(&row.creator_id);
        Ok(pb::GetNutritionResponse {
            nutrition: Some(convert::item(row, creator.unwrap_or_default(), Some(body))),
        })
    }

    pub async fn list_foods(
        &self,
        caller: &UserPrincipal,
        req: pb::ListFoodsRequest,
    ) -> Result<pb::ListFoodsResponse, ApiError> {
        let mut v = Violations::new();
        fields::optional_text(&mut v, "query", req.query.trim(), MAX_QUERY);
        let diet = if req.diet_tag == 0 {
            None
        } else {
            let name = convert::diet_name(req.diet_tag);
            if name.is_none() {
                v.add("diet_tag", "unknown diet");
            }
            name
        };
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let query = req.query.trim().to_lowercase();
        let filters = FilterHash::new()
            .add("query", query.as_bytes())
            .add("diet_tag", req.diet_tag.to_be_bytes());
        let pager = self.pager(caller, FOODS_METHOD, limit, filters);
        let after = match pager.keys(&req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(class), Key::Str(name), Key::Str(id)]) => Some((
                i32::try_from(*class).map_err(|_| bad_token())?,
                name.clone(),
                id.clone(),
            )),
            Some(_) => return Err(bad_token()),
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list_foods(
            &mut conn,
            &query,
            &word_patterns(&query),
            diet,
            after,
            pager.fetch(),
        )
        .await?;
        drop(conn);
        let token = pager.next_token(&mut rows, |r| {
            vec![
                Key::Int(i64::from(r.class)),
                Key::Str(r.lname.clone()),
                Key::Str(r.food.id.clone()),
            ]
        });
        Ok(pb::ListFoodsResponse {
            foods: rows.into_iter().map(|r| convert::food(r.food)).collect(),
            next_page_token: token,
        })
    }
}
