//! Transactions (charges and refunds), admin refunds, and entitlements.

use prost::Message;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{FilterHash, PageScope};
use tribe_kit::page::{time_id_cursor, time_id_keys};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use uuid::Uuid;

use super::{PaymentService, Result, caller_id, emit, params_hash, subject};
use crate::convert;
use crate::domain::{MAX_MINOR, RETRY_SCHEDULE_DAYS, status};
use crate::provider::ChargeOutcome;
use crate::store::{self, TX_COLUMNS, TxRow};

impl PaymentService {
    pub async fn list_transactions(
        &self,
        caller: &UserPrincipal,
        req: pb::ListTransactionsRequest,
    ) -> Result<pb::ListTransactionsResponse> {
        let pb::ListTransactionsRequest { user_id, types, statuses, time_range, subscription_id, page_size, page_token } = req;
        let owner = subject(caller, &user_id)?;
        let mut v = Violations::new();
        let limit = v.check("page_size", tribe_kit::page::page_size(page_size).map_err(|_| "must not be negative"));
        let types: Vec<String> = types
            .iter()
            .filter_map(|t| {
                let name = convert::tx_type_name(*t);
                if name.is_none() {
                    v.add("types", "contains an unknown type");
                }
                name.map(str::to_string)
            })
            .collect();
        let statuses: Vec<String> = statuses
            .iter()
            .filter_map(|s| {
                let name = convert::tx_status_name(*s);
                if name.is_none() {
                    v.add("statuses", "contains an unknown status");
                }
                name.map(str::to_string)
            })
            .collect();
        let (mut start, mut end) = (None, None);
        if let Some(range) = &time_range {
            start = range.start_time.as_ref().and_then(convert::from_ts);
            end = range.end_time.as_ref().and_then(convert::from_ts);
            if range.start_time.is_some() && start.is_none() || range.end_time.is_some() && end.is_none() {
                v.add("time_range", "has an invalid timestamp");
            }
            if let (Some(s), Some(e)) = (start, end)
                && s > e
            {
                v.add("time_range", "start_time must not be after end_time");
            }
        }
        let sub_filter = if subscription_id.is_empty() {
            None
        } else {
            v.check("subscription_id", Uuid::try_parse(&subscription_id).map_err(|_| "is not a valid id"))
        };
        v.finish()?;
        let limit = limit.unwrap_or_default() as usize;
        let hash = FilterHash::new()
            .add("user", owner.to_string())
            .add("types", types.join(","))
            .add("statuses", statuses.join(","))
            .add("start", start.map(|s| s.timestamp_micros().to_string()).unwrap_or_default())
            .add("end", end.map(|s| s.timestamp_micros().to_string()).unwrap_or_default())
            .add("subscription", &subscription_id)
            .finish();
        let scope = PageScope { method: "ListTransactions", subject_id: caller.subject(), filter_hash: &hash };
        let after = time_id_cursor(self.pages.decode(scope, &page_token)?)?;
        let mut rows: Vec<TxRow> = sqlx::query_as(&format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE user_id = $1
             AND (cardinality($2::text[]) = 0 OR type = ANY($2))
             AND (cardinality($3::text[]) = 0 OR status = ANY($3))
             AND ($4::timestamptz IS NULL OR created_at >= $4)
             AND ($5::timestamptz IS NULL OR created_at < $5)
             AND ($6::uuid IS NULL OR subscription_id = $6)
             AND ($7::timestamptz IS NULL OR (created_at, id) < ($7, $8))
             ORDER BY created_at DESC, id DESC LIMIT $9"
        ))
        .bind(owner)
        .bind(&types)
        .bind(&statuses)
        .bind(start)
        .bind(end)
        .bind(sub_filter)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |t| time_id_keys(t.created_at, t.id));
        Ok(pb::ListTransactionsResponse { transactions: rows.iter().map(convert::transaction).collect(), next_page_token })
    }

    pub async fn get_transaction(&self, caller: &UserPrincipal, req: pb::GetTransactionRequest) -> Result<pb::GetTransactionResponse> {
        let id = tribe_kit::ids::parse_id("transaction_id", &req.transaction_id)?;
        let me = caller.id();
        let mut conn = self.pool.acquire().await?;
        match store::transaction(&mut conn, id, false).await? {
            Some(t) if t.user_id == me || caller.is_admin() => {
                Ok(pb::GetTransactionResponse { transaction: Some(convert::transaction(&t)) })
            }
            _ => Err(ApiError::not_found("transaction").into()),
        }
    }

    pub async fn refund_transaction(
        &self,
        caller: &UserPrincipal,
        req: pb::RefundTransactionRequest,
    ) -> Result<pb::RefundTransactionResponse> {
        let mut v = Violations::new();
        let id = v.check("transaction_id", Uuid::try_parse(&req.transaction_id).map_err(|_| "is not a valid id"));
        if let Some(a) = &req.amount {
            if a.amount_minor <= 0 {
                v.add("amount.amount_minor", "must be positive");
            } else if a.amount_minor > MAX_MINOR {
                v.add("amount.amount_minor", format!("must be at most {MAX_MINOR}"));
            }
        }
        let reason_len = req.reason.trim().chars().count();
        if reason_len == 0 || req.reason.chars().count() > 500 {
            v.add("reason", "must be 1-500 characters");
        }
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let Some(id) = id else { return Err(ApiError::invalid_field("transaction_id", "is not a valid id").into()) };
        let hash =
            params_hash("RefundTransaction", &pb::RefundTransactionRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "RefundTransaction", &req.request_id, hash, |tx| {
            self.refund_in(&mut tx, caller, id, &req).await
        })
    }

    async fn refund_in(
        &self,
        tx: &mut sqlx::PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        req: &pb::RefundTransactionRequest,
    ) -> Result<pb::RefundTransactionResponse> {
        let mut charge = store::transaction(tx, id, true).await?.ok_or_else(|| ApiError::not_found("transaction"))?;
        if charge.r#type != "CHARGE" || !matches!(charge.status.as_str(), "SUCCEEDED" | "PARTIALLY_REFUNDED") {
            return Err(ApiError::failed_precondition("NOT_REFUNDABLE", "only a succeeded charge can be refunded").into());
        }
        let pending: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM transactions WHERE refunded_transaction_id = $1 AND status = 'PENDING'",
        )
        .bind(charge.id)
        .fetch_one(&mut *tx)
        .await?;
        let remaining = charge.amount_minor.checked_sub(charge.refunded_minor).and_then(|r| r.checked_sub(pending)).unwrap_or(0);
        let amount = match &req.amount {
            Some(a) => {
                if a.currency_code != charge.currency {
                    return Err(ApiError::invalid_field("amount.currency_code", "must be the charge's currency").into());
                }
                a.amount_minor
            }
            None => remaining,
        };
        if amount <= 0 || amount > remaining {
            return Err(ApiError::failed_precondition(
                "REFUND_EXCEEDS_REMAINING",
                format!("at most {remaining} minor units can be refunded"),
            )
            .into());
        }
        let key = super::charge_key(&["refund", caller.subject(), &req.request_id]);
        let result = self.provider.refund(&key, &charge.provider_ref, amount, &charge.currency).await.map_err(super::provider_error)?;
        let now = self.clock.now();
        let succeeded = result.outcome == ChargeOutcome::Succeeded;
        let refund = TxRow {
            id: tribe_kit::ids::new_id(),
            user_id: charge.user_id,
            subscription_id: charge.subscription_id,
            r#type: "REFUND".into(),
            status: if succeeded { "SUCCEEDED".into() } else { "FAILED".into() },
            currency: charge.currency.clone(),
            amount_minor: amount,
            refunded_minor: 0,
            billing_reason: String::new(),
            refunded_transaction_id: Some(charge.id),
            refund_reason: req.reason.trim().to_string(),
            payment_method_id: charge.payment_method_id,
            failure_code: String::new(),
            failure_message: String::new(),
            provider: charge.provider.clone(),
            provider_ref: result.reference,
            provider_key: key,
            created_at: now,
            updated_at: now,
        };
        store::insert_transaction(tx, &refund).await?;
        if succeeded {
            charge.refunded_minor += amount;
            charge.status = if charge.refunded_minor == charge.amount_minor { "REFUNDED".into() } else { "PARTIALLY_REFUNDED".into() };
            charge.updated_at = now;
            sqlx::query("UPDATE transactions SET refunded_minor = $2, status = $3, updated_at = $4 WHERE id = $1")
                .bind(charge.id)
                .bind(charge.refunded_minor)
                .bind(&charge.status)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            emit(
                tx,
                charge.user_id,
                caller.subject(),
                Payload::RefundIssued(ev::RefundIssued {
                    user_id: charge.user_id.to_string(),
                    subscription_id: charge.subscription_id.map(|s| s.to_string()).unwrap_or_default(),
                    transaction_id: refund.id.to_string(),
                    refunded_transaction_id: charge.id.to_string(),
                    amount: Some(convert::money(amount, &charge.currency)),
                    total_refunded_amount: Some(convert::money(charge.refunded_minor, &charge.currency)),
                    full_refund: charge.refunded_minor == charge.amount_minor,
                }),
            )
            .await?;
        }
        Ok(pb::RefundTransactionResponse {
            transaction: Some(convert::transaction(&refund)),
            refunded_transaction: Some(convert::transaction(&charge)),
        })
    }

    pub async fn get_entitlement(&self, req: pb::GetEntitlementRequest) -> Result<pb::GetEntitlementResponse> {
        let user = tribe_kit::ids::parse_id("user_id", &req.user_id)?;
        let mut conn = self.pool.acquire().await?;
        let mut e = pb::Entitlement { user_id: user.to_string(), tier: SubscriptionTier::Free as i32, ..Default::default() };
        if let Some(sub) = store::current_subscription(&mut conn, user).await? {
            e.subscription_id = sub.id.to_string();
            e.subscription_status = convert::status_to_pb(&sub.status) as i32;
            if status::grants_tier(&sub.status) {
                let plan = store::plan(&mut conn, sub.plan_id)
                    .await?
                    .ok_or_else(|| ApiError::internal(anyhow::anyhow!("subscription without plan")))?;
                e.tier = convert::tier(&plan.tier) as i32;
                e.premium_features = plan.features.clone();
                e.plan_id = plan.id.to_string();
                e.cancel_at_period_end = sub.cancel_at_period_end;
                let until = if sub.status == status::PAST_DUE {
                    RETRY_SCHEDULE_DAYS
                        .last()
                        .map(|d| sub.current_period_end + chrono::Duration::days(*d))
                        .unwrap_or(sub.current_period_end)
                } else {
                    sub.current_period_end
                };
                e.valid_until_time = Some(convert::ts(until));
            }
        }
        Ok(pb::GetEntitlementResponse { entitlement: Some(e) })
    }
}
