//! The plan catalogue.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{Cycle, PlanTier};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub tier: PlanTier,
    /// `tier.rank()`, stored so the catalogue sorts by it.
    pub tier_rank: i32,
    pub currency: String,
    pub monthly_minor: i64,
    pub yearly_minor: i64,
    pub features: Vec<String>,
    pub active: bool,
    pub trial_days: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl PlanRow {
    pub fn price(&self, cycle: Cycle) -> i64 {
        match cycle {
            Cycle::Monthly => self.monthly_minor,
            Cycle::Yearly => self.yearly_minor,
        }
    }
}

const COLUMNS: &str = "id, name, description, tier, tier_rank, currency, monthly_minor, yearly_minor, features, active, trial_days, created_at, updated_at";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM plans WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The position after which a page of the catalogue starts: (tier rank, created, id).
pub type Cursor = (i32, DateTime<Utc>, Uuid);

/// One page of the catalogue in (tier rank, age) order; `limit + 1` rows tell whether
/// another page follows.
pub async fn list(
    conn: &mut PgConnection,
    include_inactive: bool,
    currency: &str,
    after: Option<Cursor>,
    limit: usize,
) -> sqlx::Result<Vec<PlanRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM plans WHERE ($1 OR active) AND ($2 = '' OR currency = $2)
         AND ($3::int IS NULL OR (tier_rank, created_at, id) > ($3, $4, $5))
         ORDER BY tier_rank, created_at, id LIMIT $6"
    ))
    .bind(include_inactive)
    .bind(currency)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(after.map(|a| a.2))
    .bind(limit as i64 + 1)
    .fetch_all(conn)
    .await
}

pub async fn count(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM plans")
        .fetch_one(conn)
        .await
}

pub async fn insert(conn: &mut PgConnection, p: &PlanRow) -> sqlx::Result<()> {
    sqlx::query(&format!("INSERT INTO plans ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"))
        .bind(p.id)
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.tier)
        .bind(p.tier_rank)
        .bind(&p.currency)
        .bind(p.monthly_minor)
        .bind(p.yearly_minor)
        .bind(&p.features)
        .bind(p.active)
        .bind(p.trial_days)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes the mutable columns back (tier and currency never change).
pub async fn update(conn: &mut PgConnection, p: &PlanRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE plans SET name = $2, description = $3, monthly_minor = $4, yearly_minor = $5, features = $6, active = $7,
         trial_days = $8, updated_at = $9 WHERE id = $1",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.monthly_minor)
    .bind(p.yearly_minor)
    .bind(&p.features)
    .bind(p.active)
    .bind(p.trial_days)
    .bind(p.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}
