//! Transactions (charges and refunds), admin refunds, and entitlements.

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{FilterHash, PageScope, time_id_cursor, time_id_keys};
use tribe_kit::{ApiError, Violations};
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use uuid::Uuid;

use super::charges::charge_key;
use super::events::refund_issued;
use super::idempotency::{idempotent, params_hash};
use super::{PaymentService, dangling, emit, provider_error, subject};
use crate::convert;
use crate::domain::{
    BillingReason, MAX_MINOR, RETRY_SCHEDULE_DAYS, RefundReason, SubscriptionStatus, TxKind,
    TxStatus,
};
use crate::provider::ChargeOutcome;
use crate::store::transactions::Filter;
use crate::store::{self, TxRow};

/// A validated RefundTransaction request.
struct Refund {
    charge: Uuid,
    amount: Option<tribe_proto::r#type::v1::Money>,
    reason: RefundReason,
    request_id: String,
}

impl PaymentService {
    pub async fn list_transactions(
        &self,
        caller: &UserPrincipal,
        req: pb::ListTransactionsRequest,
    ) -> Result<pb::ListTransactionsResponse, ApiError> {
        let pb::ListTransactionsRequest {
            user_id,
            types,
            statuses,
            time_range,
            subscription_id,
            page_size,
            page_token,
        } = req;
        let owner = subject(caller, &user_id)?;
        let mut v = Violations::new();
        let limit = v.check(
            "page_size",
            tribe_kit::page::page_size(page_size).map_err(|_| "must not be negative"),
        );
        let types: Vec<TxKind> = types
            .iter()
            .filter_map(|t| {
                let kind = convert::tx_kind_from_pb(*t);
                if kind.is_none() {
                    v.add("types", "contains an unknown type");
                }
                kind
            })
            .collect();
        let statuses: Vec<TxStatus> = statuses
            .iter()
            .filter_map(|s| {
                let status = convert::tx_status_from_pb(*s);
                if status.is_none() {
                    v.add("statuses", "contains an unknown status");
                }
                status
            })
            .collect();
        let (mut start, mut end) = (None, None);
        if let Some(range) = &time_range {
            start = range.start_time.as_ref().and_then(convert::from_ts);
            end = range.end_time.as_ref().and_then(convert::from_ts);
            if range.start_time.is_some() && start.is_none()
                || range.end_time.is_some() && end.is_none()
            {
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
            v.check(
                "subscription_id",
                Uuid::try_parse(&subscription_id).map_err(|_| "is not a valid id"),
            )
        };
        v.finish()?;
        let limit = limit.unwrap_or_default() as usize;
        let names = |values: Vec<&str>| values.join(",");
        let hash = FilterHash::new()
            .add("user", owner.to_string())
            .add("types", names(types.iter().map(|t| t.as_str()).collect()))
            .add(
                "statuses",
                names(statuses.iter().map(|s| s.as_str()).collect()),
            )
            .add(
                "start",
                start
                    .map(|s| s.timestamp_micros().to_string())
                    .unwrap_or_default(),
            )
            .add(
                "end",
                end.map(|s| s.timestamp_micros().to_string())
                    .unwrap_or_default(),
            )
            .add("subscription", &subscription_id)
            .finish();
        let scope = PageScope {
            method: "ListTransactions",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = time_id_cursor(self.pages.decode(scope, &page_token)?)?;
        let filter = Filter {
            user: owner,
            types,
            statuses,
            start,
            end,
            subscription: sub_filter,
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::transactions::list(&mut conn, &filter, after, limit).await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |t| {
            time_id_keys(t.created_at, t.id)
        });
        Ok(pb::ListTransactionsResponse {
            transactions: rows.iter().map(convert::transaction).collect(),
            next_page_token,
        })
    }

    pub async fn get_transaction(
        &self,
        caller: &UserPrincipal,
        req: pb::GetTransactionRequest,
    ) -> Result<pb::GetTransactionResponse, ApiError> {
        let id = tribe_kit::ids::parse_id("transaction_id", &req.transaction_id)?;
        let mut conn = self.pool.acquire().await?;
        match store::transactions::get(&mut conn, id, false).await? {
            Some(t) if t.user_id == caller.id() || caller.is_admin() => {
                Ok(pb::GetTransactionResponse {
                    transaction: Some(convert::transaction(&t)),
                })
            }
            _ => Err(ApiError::not_found("transaction")),
        }
    }

    pub async fn refund_transaction(
        &self,
        caller: &UserPrincipal,
        req: pb::RefundTransactionRequest,
    ) -> Result<pb::RefundTransactionResponse, ApiError> {
        let mut v = Violations::new();
        let id = v.check(
            "transaction_id",
            Uuid::try_parse(&req.transaction_id).map_err(|_| "is not a valid id"),
        );
        if let Some(a) = &req.amount {
            if a.amount_minor <= 0 {
                v.add("amount.amount_minor", "must be positive");
            } else if a.amount_minor > MAX_MINOR {
                v.add(
                    "amount.amount_minor",
                    format!("must be at most {MAX_MINOR}"),
                );
            }
        }
        let reason = v.check("reason", RefundReason::parse(&req.reason));
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let (Some(charge), Some(reason)) = (id, reason) else {
            return Err(ApiError::invalid_field(
                "transaction_id",
                "is not a valid id",
            ));
        };
        let hash = params_hash(
            "RefundTransaction",
            &pb::RefundTransactionRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        let refund = Refund {
            charge,
            amount: req.amount.clone(),
            reason,
            request_id: req.request_id.clone(),
        };
        idempotent!(
            self,
            caller.subject(),
            "RefundTransaction",
            &req.request_id,
            hash,
            |tx| { self.refund_in(&mut tx, caller, &refund).await }
        )
    }

    async fn refund_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        r: &Refund,
    ) -> Result<pb::RefundTransactionResponse, ApiError> {
        let mut charge = store::transactions::get(tx, r.charge, true)
            .await?
            .ok_or_else(|| ApiError::not_found("transaction"))?;
        if charge.r#type != TxKind::Charge || !charge.status.refundable() {
            return Err(ApiError::failed_precondition(
                "NOT_REFUNDABLE",
                "only a succeeded charge can be refunded",
            ));
        }
        let pending = store::transactions::pending_refunds(tx, charge.id).await?;
        let remaining = charge
            .amount_minor
            .checked_sub(charge.refunded_minor)
            .and_then(|r| r.checked_sub(pending))
            .unwrap_or(0);
        let amount = match &r.amount {
            Some(a) => {
                if a.currency_code != charge.currency {
                    return Err(ApiError::invalid_field(
                        "amount.currency_code",
                        "must be the charge's currency",
                    ));
                }
                a.amount_minor
            }
            None => remaining,
        };
        if amount <= 0 || amount > remaining {
            return Err(ApiError::failed_precondition(
                "REFUND_EXCEEDS_REMAINING",
                format!("at most {remaining} minor units can be refunded"),
            ));
        }
        let key = charge_key(&["refund", caller.subject(), &r.request_id]);
        let result = self
            .provider
            .refund(&key, &charge.provider_ref, amount, &charge.currency)
            .await
            .map_err(provider_error)?;
        let now = self.clock.now();
        let succeeded = result.outcome == ChargeOutcome::Succeeded;
        let refund = TxRow {
            id: tribe_kit::ids::new_id(),
            user_id: charge.user_id,
            subscription_id: charge.subscription_id,
            r#type: TxKind::Refund,
            status: if succeeded {
                TxStatus::Succeeded
            } else {
                TxStatus::Failed
            },
            currency: charge.currency.clone(),
            amount_minor: amount,
            refunded_minor: 0,
            billing_reason: BillingReason::Unspecified,
            refunded_transaction_id: Some(charge.id),
            refund_reason: r.reason.clone().into_inner(),
            payment_method_id: charge.payment_method_id,
            failure_code: String::new(),
            failure_message: String::new(),
            provider: charge.provider,
            provider_ref: result.reference,
            provider_key: key,
            created_at: now,
            updated_at: now,
        };
        store::transactions::insert(tx, &refund).await?;
        if succeeded {
            charge.refunded_minor += amount;
            charge.status = if charge.refunded_minor == charge.amount_minor {
                TxStatus::Refunded
            } else {
                TxStatus::PartiallyRefunded
            };
            charge.updated_at = now;
            store::transactions::save_refunded(tx, &charge).await?;
            emit(
                tx,
                charge.user_id,
                caller.subject(),
                refund_issued(&charge, &refund),
            )
            .await?;
        }
        Ok(pb::RefundTransactionResponse {
            transaction: Some(convert::transaction(&refund)),
            refunded_transaction: Some(convert::transaction(&charge)),
        })
    }

    pub async fn get_entitlement(
        &self,
        req: pb::GetEntitlementRequest,
    ) -> Result<pb::GetEntitlementResponse, ApiError> {
        let user = tribe_kit::ids::parse_id("user_id", &req.user_id)?;
        let mut conn = self.pool.acquire().await?;
        let mut e = pb::Entitlement {
            user_id: user.to_string(),
            tier: SubscriptionTier::Free as i32,
            ..Default::default()
        };
        if let Some(sub) = store::subscriptions::current(&mut conn, user).await? {
            e.subscription_id = sub.id.to_string();
            e.subscription_status = convert::status_to_pb(sub.status) as i32;
            if sub.status.grants_tier() {
                let plan = store::plans::get(&mut conn, sub.plan_id)
                    .await?
                    .ok_or_else(|| dangling("subscription without plan"))?;
                e.tier = convert::tier(plan.tier) as i32;
                e.premium_features = plan.features.clone();
                e.plan_id = plan.id.to_string();
                e.cancel_at_period_end = sub.cancel_at_period_end;
                // A PAST_DUE subscription keeps its tier until the last retry.
                let until = if sub.status == SubscriptionStatus::PastDue {
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
        Ok(pb::GetEntitlementResponse {
            entitlement: Some(e),
        })
    }
}
