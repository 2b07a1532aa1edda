//! Payment methods: provider tokens in, display facts out. Card numbers are refused
//! before anything is stored or logged.

use prost::Message;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::{PaymentService, Result, SANDBOX, caller_id, params_hash, provider_error, subject};
use crate::convert;
use crate::domain;
use crate::store::{self, METHOD_COLUMNS, MethodRow};

const MAX_METHODS: i64 = 10;

impl PaymentService {
    pub async fn list_payment_methods(
        &self,
        caller: &UserPrincipal,
        req: pb::ListPaymentMethodsRequest,
    ) -> Result<pb::ListPaymentMethodsResponse> {
        let pb::ListPaymentMethodsRequest { user_id, page_size, page_token } = req;
        let owner = subject(caller, &user_id)?;
        let limit = tribe_kit::page::page_size(page_size)? as usize;
        let hash = FilterHash::new().add("user", owner.to_string()).finish();
        let scope = PageScope { method: "ListPaymentMethods", subject_id: caller.subject(), filter_hash: &hash };
        let bad = || ApiError::invalid_field("page_token", "malformed page token");
        let after = match self.pages.decode(scope, &page_token)? {
            None => None,
            Some(keys) => match keys.as_slice() {
                [Key::Int(d), Key::Int(micros), Key::Str(id)] => Some((
                    *d as i32,
                    chrono::DateTime::from_timestamp_micros(*micros).ok_or_else(bad)?,
                    Uuid::parse_str(id).map_err(|_| bad())?,
                )),
                _ => return Err(bad().into()),
            },
        };
        let mut rows: Vec<MethodRow> = sqlx::query_as(&format!(
            "SELECT {METHOD_COLUMNS} FROM payment_methods WHERE user_id = $1
             AND ($2::int IS NULL OR (is_default::int, created_at, id) < ($2, $3, $4))
             ORDER BY is_default DESC, created_at DESC, id DESC LIMIT $5"
        ))
        .bind(owner)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(after.map(|a| a.2))
        .bind(limit as i64 + 1)
        .fetch_all(&self.pool)
        .await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |m| {
            vec![Key::Int(m.is_default as i64), Key::Int(m.created_at.timestamp_micros()), Key::Str(m.id.to_string())]
        });
        Ok(pb::ListPaymentMethodsResponse { payment_methods: rows.iter().map(convert::method).collect(), next_page_token })
    }

    pub async fn add_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::AddPaymentMethodRequest,
    ) -> Result<pb::AddPaymentMethodResponse> {
        let user = caller.id();
        // Refuse card data first, before the value reaches any store, log or hash.
        if domain::looks_like_pan(&req.provider_token) {
            tracing::warn!(user_id = %user, "card-number-like provider token refused");
            return Err(ApiError::invalid_reason(
                "PAN_REJECTED",
                "provider_token",
                "looks like a card number; send the provider's token, never card data",
            )
            .into());
        }
        let mut v = Violations::new();
        match pb::PaymentProvider::try_from(req.provider) {
            Ok(pb::PaymentProvider::Test) if self.sandbox => {}
            Ok(pb::PaymentProvider::Unspecified) | Err(_) => v.add("provider", "is required"),
            _ => v.add("provider", "is not enabled on this deployment"),
        }
        if req.provider_token.is_empty() || req.provider_token.len() > 255 {
            v.add("provider_token", "must be 1-255 characters");
        }
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let hash =
            params_hash("AddPaymentMethod", &pb::AddPaymentMethodRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "AddPaymentMethod", &req.request_id, hash, |tx| {
            self.add_method_in(&mut tx, user, &req).await
        })
    }

    async fn add_method_in(
        &self,
        tx: &mut sqlx::PgConnection,
        user: Uuid,
        req: &pb::AddPaymentMethodRequest,
    ) -> Result<pb::AddPaymentMethodResponse> {
        // Serialise a user's method changes so the limit and the single default hold.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('methods:' || $1::text, 0))").bind(user).execute(&mut *tx).await?;
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM payment_methods WHERE user_id = $1").bind(user).fetch_one(&mut *tx).await?;
        if count >= MAX_METHODS {
            return Err(ApiError::failed_precondition("LIMIT_REACHED", "at most 10 payment methods").into());
        }
        let attached = self.provider.attach(&req.provider_token).await.map_err(provider_error)?;
        let make_default = count == 0 || req.set_default;
        if make_default {
            sqlx::query("UPDATE payment_methods SET is_default = false WHERE user_id = $1 AND is_default")
                .bind(user)
                .execute(&mut *tx)
                .await?;
        }
        let row = MethodRow {
            id: tribe_kit::ids::new_id(),
            user_id: user,
            provider: SANDBOX.into(),
            provider_ref: attached.reference,
            r#type: attached.kind.into(),
            brand: attached.brand,
            last4: attached.last4,
            exp_month: attached.exp_month,
            exp_year: attached.exp_year,
            wallet: attached.wallet,
            is_default: make_default,
            created_at: self.clock.now(),
        };
        sqlx::query(&format!("INSERT INTO payment_methods ({METHOD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
            .bind(row.id)
            .bind(row.user_id)
            .bind(&row.provider)
            .bind(&row.provider_ref)
            .bind(&row.r#type)
            .bind(&row.brand)
            .bind(&row.last4)
            .bind(row.exp_month)
            .bind(row.exp_year)
            .bind(&row.wallet)
            .bind(row.is_default)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await?;
        Ok(pb::AddPaymentMethodResponse { payment_method: Some(convert::method(&row)) })
    }

    /// The caller's own method, NOT_FOUND for anyone else's.
    async fn own_method(&self, conn: &mut sqlx::PgConnection, caller: &UserPrincipal, id: &str) -> Result<MethodRow> {
        let id = tribe_kit::ids::parse_id("payment_method_id", id)?;
        let user = caller.id();
        match store::method(conn, id).await? {
            Some(m) if m.user_id == user => Ok(m),
            _ => Err(ApiError::not_found("payment method").into()),
        }
    }

    pub async fn set_default_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::SetDefaultPaymentMethodRequest,
    ) -> Result<pb::SetDefaultPaymentMethodResponse> {
        let mut tx = self.pool.begin().await?;
        let mut method = self.own_method(&mut tx, caller, &req.payment_method_id).await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('methods:' || $1::text, 0))")
            .bind(method.user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE payment_methods SET is_default = false WHERE user_id = $1 AND is_default AND id <> $2")
            .bind(method.user_id)
            .bind(method.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE payment_methods SET is_default = true WHERE id = $1").bind(method.id).execute(&mut *tx).await?;
        tx.commit().await?;
        method.is_default = true;
        Ok(pb::SetDefaultPaymentMethodResponse { payment_method: Some(convert::method(&method)) })
    }

    pub async fn remove_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::RemovePaymentMethodRequest,
    ) -> Result<pb::RemovePaymentMethodResponse> {
        let mut tx = self.pool.begin().await?;
        let method = self.own_method(&mut tx, caller, &req.payment_method_id).await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('methods:' || $1::text, 0))")
            .bind(method.user_id)
            .execute(&mut *tx)
            .await?;
        let others: i64 = sqlx::query_scalar("SELECT count(*) FROM payment_methods WHERE user_id = $1 AND id <> $2")
            .bind(method.user_id)
            .bind(method.id)
            .fetch_one(&mut *tx)
            .await?;
        let live: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND NOT cancel_at_period_end
             AND status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE'))",
        )
        .bind(method.user_id)
        .fetch_one(&mut *tx)
        .await?;
        if others == 0 && live {
            return Err(ApiError::failed_precondition(
                "PAYMENT_METHOD_IN_USE",
                "the last payment method of a running subscription cannot be removed",
            )
            .into());
        }
        self.provider.detach(&method.provider_ref).await.map_err(provider_error)?;
        sqlx::query("DELETE FROM payment_methods WHERE id = $1").bind(method.id).execute(&mut *tx).await?;
        if method.is_default {
            sqlx::query(
                "UPDATE payment_methods SET is_default = true WHERE id = (SELECT id FROM payment_methods WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1)",
            )
            .bind(method.user_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(pb::RemovePaymentMethodResponse {})
    }
}
