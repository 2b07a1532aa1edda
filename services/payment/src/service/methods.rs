//! Payment methods: provider tokens in, display facts out. Card numbers are refused
//! before anything is stored or logged.

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::idempotency::{idempotent, params_hash};
use super::{PaymentService, provider_error, subject};
use crate::convert;
use crate::domain::{Provider, ProviderToken, ProviderTokenError};
use crate::store::{self, MethodRow};

const MAX_METHODS: i64 = 10;

/// Serialises a user's method changes so the limit and the single default hold.
async fn lock_methods(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<()> {
    store::lock(conn, &format!("methods:{user}")).await
}

impl PaymentService {
    pub async fn list_payment_methods(
        &self,
        caller: &UserPrincipal,
        req: pb::ListPaymentMethodsRequest,
    ) -> Result<pb::ListPaymentMethodsResponse, ApiError> {
        let pb::ListPaymentMethodsRequest {
            user_id,
            page_size,
            page_token,
        } = req;
        let owner = subject(caller, &user_id)?;
        let limit = tribe_kit::page::page_size(page_size)? as usize;
        let hash = FilterHash::new().add("user", owner.to_string()).finish();
        let scope = PageScope {
            method: "ListPaymentMethods",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let bad = || ApiError::invalid_field("page_token", "malformed page token");
        let after = match self.pages.decode(scope, &page_token)? {
            None => None,
            Some(keys) => match keys.as_slice() {
                [Key::Int(d), Key::Int(micros), Key::Str(id)] => Some((
                    *d as i32,
                    chrono::DateTime::from_timestamp_micros(*micros).ok_or_else(bad)?,
                    Uuid::parse_str(id).map_err(|_| bad())?,
                )),
                _ => return Err(bad()),
            },
        };
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::methods::list(&mut conn, owner, after, limit).await?;
        let next_page_token = self.pages.next_token(scope, &mut rows, limit, |m| {
            vec![
                Key::Int(m.is_default as i64),
                Key::Int(m.created_at.timestamp_micros()),
                Key::Str(m.id.to_string()),
            ]
        });
        Ok(pb::ListPaymentMethodsResponse {
            payment_methods: rows.iter().map(convert::method).collect(),
            next_page_token,
        })
    }

    pub async fn add_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::AddPaymentMethodRequest,
    ) -> Result<pb::AddPaymentMethodResponse, ApiError> {
        let user = caller.id();
        // Refuse card data first, before the value reaches any store, log or hash.
        let token = match ProviderToken::parse(&req.provider_token) {
            Err(ProviderTokenError::CardNumber) => {
                tracing::warn!(user_id = %user, "card-number-like provider token refused");
                return Err(ApiError::invalid_reason(
                    "PAN_REJECTED",
                    "provider_token",
                    &ProviderTokenError::CardNumber.to_string(),
                ));
            }
            other => other,
        };
        let mut v = Violations::new();
        match pb::PaymentProvider::try_from(req.provider) {
            Ok(pb::PaymentProvider::Test) if self.sandbox => {}
            Ok(pb::PaymentProvider::Unspecified) | Err(_) => v.add("provider", "is required"),
            _ => v.add("provider", "is not enabled on this deployment"),
        }
        let token = v.check("provider_token", token);
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let Some(token) = token else {
            return Err(ApiError::invalid_field("provider_token", "is invalid"));
        };
        let hash = params_hash(
            "AddPaymentMethod",
            &pb::AddPaymentMethodRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        idempotent!(
            self,
            caller.subject(),
            "AddPaymentMethod",
            &req.request_id,
            hash,
            |tx| {
                self.add_method_in(&mut tx, user, &token, req.set_default)
                    .await
            }
        )
    }

    async fn add_method_in(
        &self,
        tx: &mut PgConnection,
        user: Uuid,
        token: &ProviderToken,
        set_default: bool,
    ) -> Result<pb::AddPaymentMethodResponse, ApiError> {
        lock_methods(tx, user).await?;
        let count = store::methods::count(tx, user, None).await?;
        if count >= MAX_METHODS {
            return Err(ApiError::failed_precondition(
                "LIMIT_REACHED",
                "at most 10 payment methods",
            ));
        }
        let attached = self.provider.attach(token).await.map_err(provider_error)?;
        let make_default = count == 0 || set_default;
        if make_default {
            store::methods::clear_default(tx, user, None).await?;
        }
        let row = MethodRow {
            id: tribe_kit::ids::new_id(),
            user_id: user,
            provider: Provider::Test,
            provider_ref: attached.reference,
            r#type: attached.kind,
            brand: attached.brand,
            last4: attached.last4,
            exp_month: attached.exp_month,
            exp_year: attached.exp_year,
            wallet: attached.wallet,
            is_default: make_default,
            created_at: self.clock.now(),
        };
        store::methods::insert(tx, &row).await?;
        Ok(pb::AddPaymentMethodResponse {
            payment_method: Some(convert::method(&row)),
        })
    }

    /// The caller's own method, NOT_FOUND for anyone else's.
    async fn own_method(
        &self,
        conn: &mut PgConnection,
        caller: &UserPrincipal,
        id: &str,
    ) -> Result<MethodRow, ApiError> {
        let id = tribe_kit::ids::parse_id("payment_method_id", id)?;
        match store::methods::get(conn, id).await? {
            Some(m) if m.user_id == caller.id() => Ok(m),
            _ => Err(ApiError::not_found("payment method")),
        }
    }

    pub async fn set_default_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::SetDefaultPaymentMethodRequest,
    ) -> Result<pb::SetDefaultPaymentMethodResponse, ApiError> {
        let mut tx = self.pool.begin().await?;
        let mut method = self
            .own_method(&mut tx, caller, &req.payment_method_id)
            .await?;
        lock_methods(&mut tx, method.user_id).await?;
        store::methods::set_default(&mut tx, method.user_id, method.id).await?;
        tx.commit().await?;
        method.is_default = true;
        Ok(pb::SetDefaultPaymentMethodResponse {
            payment_method: Some(convert::method(&method)),
        })
    }

    pub async fn remove_payment_method(
        &self,
        caller: &UserPrincipal,
        req: pb::RemovePaymentMethodRequest,
    ) -> Result<pb::RemovePaymentMethodResponse, ApiError> {
        let mut tx = self.pool.begin().await?;
        let method = self
            .own_method(&mut tx, caller, &req.payment_method_id)
            .await?;
        lock_methods(&mut tx, method.user_id).await?;
        let others = store::methods::count(&mut tx, method.user_id, Some(method.id)).await?;
        if others == 0 && store::subscriptions::has_renewing(&mut tx, method.user_id).await? {
            return Err(ApiError::failed_precondition(
                "PAYMENT_METHOD_IN_USE",
                "the last payment method of a running subscription cannot be removed",
            ));
        }
        self.provider
            .detach(&method.provider_ref)
            .await
            .map_err(provider_error)?;
        store::methods::delete(&mut tx, method.id).await?;
        if method.is_default {
            store::methods::promote_newest(&mut tx, method.user_id).await?;
        }
        tx.commit().await?;
        Ok(pb::RemovePaymentMethodResponse {})
    }
}
