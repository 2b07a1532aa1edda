//! Plans: the public catalogue and its administration.

use prost::Message;
use tribe_kit::auth::{Principal, UserPrincipal};
use tribe_kit::mask::UpdateMask;
use tribe_kit::page::{FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::PaymentService;
use super::idempotency::{idempotent, params_hash};
use crate::convert;
use crate::domain::{Currency, Features, Money, PlanName, PlanTier, plan_description, trial_days};
use crate::store::{self, PlanRow};

const UPDATABLE: &[&str] = &[
    "name",
    "description",
    "monthly_price",
    "yearly_price",
    "features",
    "active",
    "trial_days",
];

/// Validates both prices: positive, supported and equal currencies.
fn prices(
    v: &mut Violations,
    monthly: Option<&tribe_proto::r#type::v1::Money>,
    yearly: Option<&tribe_proto::r#type::v1::Money>,
) -> Option<(Money, Money)> {
    let m = match monthly {
        Some(m) => v.check(
            "plan.monthly_price",
            Money::positive(m.amount_minor, &m.currency_code),
        ),
        None => {
            v.add("plan.monthly_price", "is required");
            None
        }
    };
    let y = match yearly {
        Some(y) => v.check(
            "plan.yearly_price",
            Money::positive(y.amount_minor, &y.currency_code),
        ),
        None => {
            v.add("plan.yearly_price", "is required");
            None
        }
    };
    let (m, y) = (m?, y?);
    if m.currency != y.currency {
        v.add(
            "plan.yearly_price",
            "must be in the same currency as monthly_price",
        );
        return None;
    }
    Some((m, y))
}

fn plan_tier(v: &mut Violations, tier: i32) -> Option<PlanTier> {
    let t = convert::tier_from_pb(tier);
    if t.is_none() {
        v.add("plan.tier", "must be PREMIUM or PRO");
    }
    t
}

impl PaymentService {
    pub async fn list_plans(
        &self,
        caller: &Principal,
        req: pb::ListPlansRequest,
    ) -> Result<pb::ListPlansResponse, ApiError> {
        let pb::ListPlansRequest {
            include_inactive,
            currency_code,
            page_size,
            page_token,
        } = req;
        let mut v = Violations::new();
        let limit = v.check(
            "page_size",
            tribe_kit::page::page_size(page_size).map_err(|_| "must not be negative"),
        );
        if !currency_code.is_empty() {
            v.check("currency_code", Currency::parse(&currency_code));
        }
        v.finish()?;
        let limit = limit.unwrap_or_default() as usize;
        if include_inactive && !matches!(caller, Principal::User(u) if u.is_admin()) {
            return Err(ApiError::permission_denied(
                "include_inactive requires the admin role",
            ));
        }
        let hash = FilterHash::new()
            .add("inactive", [include_inactive as u8])
            .add("currency", &currency_code)
            .finish();
        let scope = PageScope {
            method: "ListPlans",
            subject_id: "",
            filter_hash: &hash,
        };
        let bad = || ApiError::invalid_field("page_token", "malformed page token");
        let after = match self.pages.decode(scope, &page_token)? {
            None => None,
            Some(keys) => match keys.as_slice() {
                [Key::Int(rank), Key::Int(micros), Key::Str(id)] => Some((
                    *rank as i32,
                    chrono::DateTime::from_timestamp_micros(*micros).ok_or_else(bad)?,
                    Uuid::parse_str(id).map_err(|_| bad())?,
                )),
                _ => return Err(bad()),
            },
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows =
            store::plans::list(&mut conn, include_inactive, &currency_code, after, limit).await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |p| {
            vec![
                Key::Int(p.tier_rank.into()),
                Key::Int(p.created_at.timestamp_micros()),
                Key::Str(p.id.to_string()),
            ]
        });
        Ok(pb::ListPlansResponse {
            plans: rows.iter().map(convert::plan).collect(),
            next_page_token,
        })
    }

    pub async fn get_plan(&self, req: pb::GetPlanRequest) -> Result<pb::GetPlanResponse, ApiError> {
        let id = tribe_kit::ids::parse_id("plan_id", &req.plan_id)?;
        let mut conn = self.pool.acquire().await?;
        let plan = store::plans::get(&mut conn, id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        Ok(pb::GetPlanResponse {
            plan: Some(convert::plan(&plan)),
        })
    }

    pub async fn create_plan(
        &self,
        caller: &UserPrincipal,
        req: pb::CreatePlanRequest,
    ) -> Result<pb::CreatePlanResponse, ApiError> {
        let plan = req.plan.clone().unwrap_or_default();
        let mut v = Violations::new();
        let name = v.check("plan.name", PlanName::parse(&plan.name));
        v.check("plan.description", plan_description(&plan.description));
        let tier = plan_tier(&mut v, plan.tier);
        let prices = prices(
            &mut v,
            plan.monthly_price.as_ref(),
            plan.yearly_price.as_ref(),
        );
        let features = v.check("plan.features", Features::parse(&plan.features));
        v.check("plan.trial_days", trial_days(plan.trial_days));
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let (Some(name), Some(tier), Some((monthly, yearly)), Some(features)) =
            (name, tier, prices, features)
        else {
            return Err(ApiError::invalid_field("plan", "is invalid"));
        };
        let hash = params_hash(
            "CreatePlan",
            &pb::CreatePlanRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        let now = self.clock.now();
        let row = PlanRow {
            id: tribe_kit::ids::new_id(),
            name: name.into_inner(),
            description: plan.description.clone(),
            tier,
            tier_rank: tier.rank(),
            currency: monthly.currency.as_str().into(),
            monthly_minor: monthly.minor,
            yearly_minor: yearly.minor,
            features: features.into_inner(),
            active: plan.active,
            trial_days: plan.trial_days,
            created_at: now,
            updated_at: now,
        };
        idempotent!(
            self,
            caller.subject(),
            "CreatePlan",
            &req.request_id,
            hash,
            |tx| {
                match store::plans::insert(&mut tx, &row).await {
                    Ok(()) => Ok(pb::CreatePlanResponse {
                        plan: Some(convert::plan(&row)),
                    }),
                    Err(e) => Err(e.into()),
                }
            }
        )
    }

    pub async fn update_plan(
        &self,
        req: pb::UpdatePlanRequest,
    ) -> Result<pb::UpdatePlanResponse, ApiError> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
        let input = req.plan.unwrap_or_default();
        let id = tribe_kit::ids::parse_id("plan.plan_id", &input.plan_id)?;
        let mut tx = self.pool.begin().await?;
        let mut row = store::plans::get(&mut tx, id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        let mut v = Violations::new();
        if mask.contains("name")
            && let Some(name) = v.check("plan.name", PlanName::parse(&input.name))
        {
            row.name = name.into_inner();
        }
        if mask.contains("description") {
            v.check("plan.description", plan_description(&input.description));
            row.description = input.description.clone();
        }
        let currency = row.currency.clone();
        for (path, price, target) in [
            (
                "monthly_price",
                input.monthly_price.as_ref(),
                &mut row.monthly_minor,
            ),
            (
                "yearly_price",
                input.yearly_price.as_ref(),
                &mut row.yearly_minor,
            ),
        ] {
            if mask.contains(path) {
                let field = format!("plan.{path}");
                match price {
                    None => v.add(&field, "is required"),
                    Some(p) => {
                        if let Some(m) =
                            v.check(&field, Money::positive(p.amount_minor, &p.currency_code))
                        {
                            if m.currency.as_str() != currency {
                                v.add(
                                    &field,
                                    "the currency of a plan cannot change; create a new plan",
                                );
                            } else {
                                *target = m.minor;
                            }
                        }
                    }
                }
            }
        }
        if mask.contains("features")
            && let Some(f) = v.check("plan.features", Features::parse(&input.features))
        {
            row.features = f.into_inner();
        }
        if mask.contains("active") {
            row.active = input.active;
        }
        if mask.contains("trial_days") {
            v.check("plan.trial_days", trial_days(input.trial_days));
            row.trial_days = input.trial_days;
        }
        v.finish()?;
        row.updated_at = self.clock.now();
        store::plans::update(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(pb::UpdatePlanResponse {
            plan: Some(convert::plan(&row)),
        })
    }
}

/// One plan of the catalogue a local mesh starts with (`TRIBE_PAYMENT_DEFAULT_PLANS`);
/// prices in EUR cents.
struct DefaultPlan {
    name: &'static str,
    description: &'static str,
    tier: PlanTier,
    monthly: i64,
    yearly: i64,
    features: &'static [&'static str],
}

const DEFAULT_PLANS: &[DefaultPlan] = &[
    DefaultPlan {
        name: "Premium",
        description: "Premium posts, the AI coach and your own analytics.",
        tier: PlanTier::Premium,
        monthly: 999,
        yearly: 9_990,
        features: &["premium_posts", "ai_coach", "advanced_analytics"],
    },
    DefaultPlan {
        name: "Pro",
        description: "Everything in Premium, plus creator insights and paid programs for trainers.",
        tier: PlanTier::Pro,
        monthly: 1_999,
        yearly: 19_990,
        features: &[
            "premium_posts",
            "ai_coach",
            "advanced_analytics",
            "creator_insights",
            "trainer_programs",
        ],
    },
];

impl PaymentService {
    /// Creates the default catalogue when there is no plan at all (a fresh local mesh);
    /// returns how many plans it created. Safe with several instances starting at once.
    pub async fn seed_default_plans(&self) -> Result<usize, ApiError> {
        let mut tx = self.pool.begin().await?;
        store::lock(&mut tx, "plans:default").await?;
        if store::plans::count(&mut tx).await? > 0 {
            return Ok(0);
        }
        let now = self.clock.now();
        for plan in DEFAULT_PLANS {
            let features = Features::parse(
                &plan
                    .features
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| ApiError::internal(anyhow::anyhow!("default plan features: {e}")))?;
            let row = PlanRow {
                id: tribe_kit::ids::new_id(),
                name: plan.name.to_string(),
                description: plan.description.to_string(),
                tier: plan.tier,
                tier_rank: plan.tier.rank(),
                currency: "EUR".into(),
                monthly_minor: plan.monthly,
                yearly_minor: plan.yearly,
                features: features.into_inner(),
                active: true,
                trial_days: 0,
                created_at: now,
                updated_at: now,
            };
            store::plans::insert(&mut tx, &row).await?;
        }
        tx.commit().await?;
        Ok(DEFAULT_PLANS.len())
    }
}
