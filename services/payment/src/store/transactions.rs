//! Transactions: charges (one per provider idempotency key) and their refunds.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::{BillingReason, Provider, TxKind, TxStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TxRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub subscription_id: Option<Uuid>,
    pub r#type: TxKind,
    pub status: TxStatus,
    pub currency: String,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub billing_reason: BillingReason,
    pub refunded_transaction_id: Option<Uuid>,
    pub refund_reason: String,
    pub payment_method_id: Option<Uuid>,
    pub failure_code: String,
    pub failure_message: String,
    pub provider: Provider,
    pub provider_ref: String,
    pub provider_key: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, user_id, subscription_id, type, status, currency, amount_minor, refunded_minor, billing_reason, \
     refunded_transaction_id, refund_reason, payment_method_id, failure_code, failure_message, provider, provider_ref, provider_key, \
     created_at, updated_at";

pub async fn get(
    conn: &mut PgConnection,
    id: Uuid,
    for_update: bool,
) -> sqlx::Result<Option<TxRow>> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transactions WHERE id = $1{lock}"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The transaction recorded for a provider idempotency key.
pub async fn by_provider_key(conn: &mut PgConnection, key: &str) -> sqlx::Result<Option<TxRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transactions WHERE provider_key = $1"
    ))
    .bind(key)
    .fetch_optional(conn)
    .await
}

/// The latest pending charge of a subscription, locked.
pub async fn pending_charge(
    conn: &mut PgConnection,
    subscription: Uuid,
) -> sqlx::Result<Option<TxRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transactions WHERE subscription_id = $1 AND type = $2 AND status = $3
         ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE"
    ))
    .bind(subscription)
    .bind(TxKind::Charge)
    .bind(TxStatus::Pending)
    .fetch_optional(conn)
    .await
}

/// What list filters select; empty lists and `None` select everything.
#[derive(Debug, Default)]
pub struct Filter {
    pub user: Uuid,
    pub types: Vec<TxKind>,
    pub statuses: Vec<TxStatus>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub subscription: Option<Uuid>,
}

/// One page of a user's transactions, newest first; `limit + 1` rows.
pub async fn list(
    conn: &mut PgConnection,
    f: &Filter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: usize,
) -> sqlx::Result<Vec<TxRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM transactions WHERE user_id = $1
         AND (cardinality($2::text[]) = 0 OR type = ANY($2))
         AND (cardinality($3::text[]) = 0 OR status = ANY($3))
         AND ($4::timestamptz IS NULL OR created_at >= $4)
         AND ($5::timestamptz IS NULL OR created_at < $5)
         AND ($6::uuid IS NULL OR subscription_id = $6)
         AND ($7::timestamptz IS NULL OR (created_at, id) < ($7, $8))
         ORDER BY created_at DESC, id DESC LIMIT $9"
    ))
    .bind(f.user)
    .bind(&f.types)
    .bind(&f.statuses)
    .bind(f.start)
    .bind(f.end)
    .bind(f.subscription)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit as i64 + 1)
    .fetch_all(conn)
    .await
}

pub async fn insert(conn: &mut PgConnection, t: &TxRow) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO transactions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(t.id)
    .bind(t.user_id)
    .bind(t.subscription_id)
    .bind(t.r#type)
    .bind(t.status)
    .bind(&t.currency)
    .bind(t.amount_minor)
    .bind(t.refunded_minor)
    .bind(t.billing_reason)
    .bind(t.refunded_transaction_id)
    .bind(&t.refund_reason)
    .bind(t.payment_method_id)
    .bind(&t.failure_code)
    .bind(&t.failure_message)
    .bind(t.provider)
    .bind(&t.provider_ref)
    .bind(&t.provider_key)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes a charge's outcome: status, provider reference, failure and update time.
pub async fn save_outcome(conn: &mut PgConnection, t: &TxRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE transactions SET status = $2, provider_ref = $3, failure_code = $4, failure_message = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(t.id)
    .bind(t.status)
    .bind(&t.provider_ref)
    .bind(&t.failure_code)
    .bind(&t.failure_message)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Attaches a charge made before its subscription existed to that subscription.
pub async fn link(conn: &mut PgConnection, id: Uuid, subscription: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE transactions SET subscription_id = $2 WHERE id = $1")
        .bind(id)
        .bind(subscription)
        .execute(conn)
        .await?;
    Ok(())
}

/// The amount of a charge's refunds still pending at the provider.
pub async fn pending_refunds(conn: &mut PgConnection, charge: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT coalesce(sum(amount_minor), 0)::bigint FROM transactions WHERE refunded_transaction_id = $1 AND status = $2")
        .bind(charge)
        .bind(TxStatus::Pending)
        .fetch_one(conn)
        .await
}

/// Writes a charge's refunded amount and status.
pub async fn save_refunded(conn: &mut PgConnection, t: &TxRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE transactions SET refunded_minor = $2, status = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(t.id)
    .bind(t.refunded_minor)
    .bind(t.status)
    .bind(t.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}
