//! Nutrition: recipes, meal plans and guides with macros computed from the food table.

mod body;

use std::collections::HashSet;

use prost::Message;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::challenges::fields;
use crate::convert::nutrition as convert;
use crate::store::nutrition::{self as store, ItemRow};

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateNutrition";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListNutrition";
const FOODS_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListFoods";
const MAX_QUERY: usize = 100;

fn not_found() -> ApiError {
    ApiError::not_found("nutrition item")
}

fn bad_token() -> ApiError {
    ApiError::invalid_field("page_token", "malformed page token")
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
        if !(caller.has_role(Role::Trainer) || caller.is_admin()) {
            return Err(ApiError::permission_denied(
                "only trainers and admins publish nutrition content",
            ));
        }
        let n = req.nutrition.unwrap_or_default();
        let mut v = Violations::new();
        let request_id = fields::request_id(&mut v, &req.request_id);
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
        let hash = idempotency::request_hash(&params.encode_to_vec());
        let mut tx = self.pool.begin().await?;
        if let Some(key) = request_id
            && let Claim::Replay(bytes) =
                idempotency::claim(&mut tx, caller.subject(), CREATE_METHOD, key, &hash).await?
        {
            return pb::CreateNutritionResponse::decode(bytes.as_slice())
                .map_err(ApiError::internal);
        }
        fields::required_text(&mut v, "nutrition.title", &n.title, 100);
        fields::optional_text(&mut v, "nutrition.summary", &n.summary, 500);
        fields::difficulty(&mut v, "nutrition.difficulty", n.difficulty);
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
        if let Some(key) = request_id {
            idempotency::complete(
                &mut tx,
                caller.subject(),
                CREATE_METHOD,
                key,
                &response.encode_to_vec(),
            )
            .await?;
        }
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
        let premium = match pb::PremiumFilter::try_from(req.premium_filter) {
            Ok(pb::PremiumFilter::Unspecified) => None,
            Ok(pb::PremiumFilter::PremiumOnly) => Some(true),
            Ok(pb::PremiumFilter::FreeOnly) => Some(false),
            Err(_) => {
                v.add("premium_filter", "unknown premium filter");
                None
            }
        };
        let creator = if req.creator_id.is_empty() {
            None
        } else {
            v.check("creator_id", ids::parse_id("creator_id", &req.creator_id))
        };
        if req.query.chars().count() > MAX_QUERY {
            v.add("query", "must be at most 100 characters");
        }
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let (Some(kind), Some(limit)) = (kind, limit) else {
            return Err(ApiError::invalid_field("kind", "unknown kind"));
        };
        let query = req.query.trim();
        let hash = FilterHash::new()
            .add("kind", req.kind.to_be_bytes())
            .add("tags", req.tags.join("\u{1f}"))
            .add("diet_tags", diets.join(","))
            .add("premium", req.premium_filter.to_be_bytes())
            .add("creator", req.creator_id.as_bytes())
            .add("query", query)
            .finish();
        let scope = PageScope {
            method: LIST_METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Float(rel), Key::Int(micros), Key::Str(id)]) => Some((
                *rel,
                chrono::DateTime::from_timestamp_micros(*micros).ok_or_else(bad_token)?,
                Uuid::parse_str(id).map_err(|_| bad_token())?,
            )),
            Some(_) => return Err(bad_token()),
        };
        let filter = store::ItemFilter {
            kind,
            tags: &req.tags,
            diet_tags: &diets,
            premium,
            creator,
            query,
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(&mut conn, &filter, after, i64::from(limit) + 1).await?;
        drop(conn);
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r: &ItemRow| {
                vec![
                    Key::Float(r.relevance),
                    Key::Int(r.created_at.timestamp_micros()),
                    Key::Str(r.id.to_string()),
                ]
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
        if row.is_premium {
            self.require_premium(caller, row.creator_id).await?;
        }
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
        if req.query.chars().count() > MAX_QUERY {
            v.add("query", "must be at most 100 characters");
        }
        let diet = if req.diet_tag == 0 {
            None
        } else {
            let name = convert::diet_name(req.diet_tag);
            if name.is_none() {
                v.add("diet_tag", "unknown diet");
            }
            name
        };
        let limit = v.check("page_size", page::page_size(req.page_size));
        v.finish()?;
        let Some(limit) = limit else {
            return Err(ApiError::invalid_field("page_size", "must not be negative"));
        };
        let query = req.query.trim().to_lowercase();
        let hash = FilterHash::new()
            .add("query", query.as_bytes())
            .add("diet_tag", req.diet_tag.to_be_bytes())
            .finish();
        let scope = PageScope {
            method: FOODS_METHOD,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.pages.decode(scope, &req.page_token)?.as_deref() {
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
            i64::from(limit) + 1,
        )
        .await?;
        drop(conn);
        let token = self
            .pages
            .next_token(scope, &mut rows, limit as usize, |r| {
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
