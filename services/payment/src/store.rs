//! PostgreSQL access of the payment service. Functions take a connection so use-cases
//! choose their transaction boundaries; no business rules here beyond what SQL enforces.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanRow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub tier: String,
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
    pub fn price(&self, cycle: crate::domain::Cycle) -> i64 {
        match cycle {
            crate::domain::Cycle::Monthly => self.monthly_minor,
            crate::domain::Cycle::Yearly => self.yearly_minor,
        }
    }
}

pub const PLAN_COLUMNS: &str =
    "id, name, description, tier, tier_rank, currency, monthly_minor, yearly_minor, features, active, trial_days, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MethodRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: String,
    pub provider_ref: String,
    pub r#type: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub wallet: String,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

pub const METHOD_COLUMNS: &str =
    "id, user_id, provider, provider_ref, type, brand, last4, exp_month, exp_year, wallet, is_default, created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub plan_id: Uuid,
    pub status: String,
    pub billing_cycle: String,
    pub current_period_start: DateTime<Utc>,
    pub current_period_end: DateTime<Utc>,
    pub trial_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub payment_method_id: Option<Uuid>,
    pub retry_attempt: i32,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub scheduled_plan_id: Option<Uuid>,
    pub scheduled_cycle: Option<String>,
    /// Periods are counted from here (the first paid period's start), so renewals keep
    /// its day of the month.
    pub billing_anchor: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const SUB_COLUMNS: &str = "id, user_id, plan_id, status, billing_cycle, current_period_start, current_period_end, trial_end, \
     cancel_at_period_end, canceled_at, ended_at, payment_method_id, retry_attempt, next_retry_at, scheduled_plan_id, \
     scheduled_cycle, billing_anchor, created_at, updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TxRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub r#type: String,
    pub status: String,
    pub currency: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub billing_reason: String,
    pub refunded_transaction_id: Option<Uuid>,
    pub refund_reason: String,
    pub payment_method_id: Option<Uuid>,
    pub failure_code: String,
    pub failure_message: String,
    pub provider: String,
    pub provider_ref: String,
    pub provider_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const TX_COLUMNS: &str = "id, user_id, subscription_id, type, status, currency, amount_minor, refunded_minor, billing_reason, \
     refunded_transaction_id, refund_reason, payment_method_id, failure_code, failure_message, provider, provider_ref, provider_key, \
     created_at, updated_at";

pub async fn plan(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<PlanRow>> {
    sqlx::query_as(&format!("SELECT {PLAN_COLUMNS} FROM plans WHERE id = $1")).bind(id).fetch_optional(conn).await
}

pub async fn insert_plan(conn: &mut PgConnection, p: &PlanRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO plans (id, name, description, tier, tier_rank, currency, monthly_minor, yearly_minor, features, active, trial_days, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(p.id)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.tier)
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

pub async fn update_plan(conn: &mut PgConnection, p: &PlanRow) -> sqlx::Result<()> {
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

pub async fn method(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MethodRow>> {
    sqlx::query_as(&format!("SELECT {METHOD_COLUMNS} FROM payment_methods WHERE id = $1")).bind(id).fetch_optional(conn).await
}

pub async fn default_method(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<MethodRow>> {
    sqlx::query_as(&format!("SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1 AND is_default"))
        .bind(user)
        .fetch_optional(conn)
        .await
}

pub async fn subscription(conn: &mut PgConnection, id: Uuid, for_update: bool) -> sqlx::Result<Option<SubRow>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!("SELECT {SUB_COLUMNS} FROM subscriptions WHERE id = $1{lock}")).bind(id).fetch_optional(conn).await
}

/// The user's non-terminal subscription, else the most recently created one.
pub async fn current_subscription(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<SubRow>> {
    sqlx::query_as(&format!(
        "SELECT {SUB_COLUMNS} FROM subscriptions WHERE user_id = $1
         ORDER BY (status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE')) DESC, created_at DESC, id DESC LIMIT 1"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await
}

pub async fn insert_subscription(conn: &mut PgConnection, s: &SubRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO subscriptions ({SUB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(s.id)
    .bind(s.user_id)
    .bind(s.plan_id)
    .bind(&s.status)
    .bind(&s.billing_cycle)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.trial_end)
    .bind(s.cancel_at_period_end)
    .bind(s.canceled_at)
    .bind(s.ended_at)
    .bind(s.payment_method_id)
    .bind(s.retry_attempt)
    .bind(s.next_retry_at)
    .bind(s.scheduled_plan_id)
    .bind(&s.scheduled_cycle)
    .bind(s.billing_anchor)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes every mutable column of a subscription back.
pub async fn save_subscription(conn: &mut PgConnection, s: &SubRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE subscriptions SET plan_id = $2, status = $3, billing_cycle = $4, current_period_start = $5, current_period_end = $6,
         trial_end = $7, cancel_at_period_end = $8, canceled_at = $9, ended_at = $10, payment_method_id = $11, retry_attempt = $12,
         next_retry_at = $13, scheduled_plan_id = $14, scheduled_cycle = $15, updated_at = $16, billing_anchor = $17
         WHERE id = $1",
    )
    .bind(s.id)
    .bind(s.plan_id)
    .bind(&s.status)
    .bind(&s.billing_cycle)
    .bind(s.current_period_start)
    .bind(s.current_period_end)
    .bind(s.trial_end)
    .bind(s.cancel_at_period_end)
    .bind(s.canceled_at)
    .bind(s.ended_at)
    .bind(s.payment_method_id)
    .bind(s.retry_attempt)
    .bind(s.next_retry_at)
    .bind(s.scheduled_plan_id)
    .bind(&s.scheduled_cycle)
    .bind(s.updated_at)
    .bind(s.billing_anchor)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn transaction(conn: &mut PgConnection, id: Uuid, for_update: bool) -> sqlx::Result<Option<TxRow>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!("SELECT {TX_COLUMNS} FROM transactions WHERE id = $1{lock}")).bind(id).fetch_optional(conn).await
}

pub async fn insert_transaction(conn: &mut PgConnection, t: &TxRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO transactions ({TX_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.subscription_id)
    .bind(&t.r#type)
    .bind(&t.status)
    .bind(&t.currency)
    .bind(t.amount_minor)
    .bind(t.refunded_minor)
    .bind(&t.billing_reason)
    .bind(t.refunded_transaction_id)
    .bind(&t.refund_reason)
    .bind(t.payment_method_id)
    .bind(&t.failure_code)
    .bind(&t.failure_message)
    .bind(&t.provider)
    .bind(&t.provider_ref)
    .bind(&t.provider_key)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}
