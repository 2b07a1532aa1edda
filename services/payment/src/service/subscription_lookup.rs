//! Subscription lookups: GetSubscription, the client view of a subscription, and the
//! subscription and payment method a request may name.

use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::{PaymentService, dangling};
use crate::convert;
use crate::store::{self, MethodRow, SubRow};

impl PaymentService {
    /// The subscription with its plans, as returned to clients.
    pub(super) async fn view(
        &self,
        conn: &mut PgConnection,
        s: &SubRow,
    ) -> Result<pb::Subscription, ApiError> {
        let plan = store::plans::get(conn, s.plan_id)
            .await?
            .ok_or_else(|| dangling("subscription without plan"))?;
        let scheduled = match s.scheduled_plan_id {
            Some(id) => store::plans::get(conn, id).await?,
            None => None,
        };
        Ok(convert::subscription(s, &plan, scheduled.as_ref()))
    }

    /// The method named by a request (one of the user's), or the user's default.
    pub(super) async fn method_for(
        &self,
        conn: &mut PgConnection,
        user: Uuid,
        id: &str,
    ) -> Result<MethodRow, ApiError> {
        if id.is_empty() {
            return store::methods::default_for(conn, user)
                .await?
                .ok_or_else(|| {
                    ApiError::failed_precondition("NO_PAYMENT_METHOD", "add a payment method first")
                });
        }
        let id = tribe_kit::ids::parse_id("payment_method_id", id)?;
        match store::methods::get(conn, id).await? {
            Some(m) if m.user_id == user => Ok(m),
            _ => Err(ApiError::not_found("payment method")),
        }
    }

    /// A subscription the caller may see: their own, or any for admins when `admin_ok`.
    pub(super) async fn visible_sub(
        &self,
        conn: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        for_update: bool,
        admin_ok: bool,
    ) -> Result<SubRow, ApiError> {
        match store::subscriptions::get(conn, id, for_update).await? {
            Some(s) if s.user_id == caller.id() || (admin_ok && caller.is_admin()) => Ok(s),
            _ => Err(ApiError::not_found("subscription")),
        }
    }

    pub async fn get_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::GetSubscriptionRequest,
    ) -> Result<pb::GetSubscriptionResponse, ApiError> {
        use pb::get_subscription_request::Lookup;
        let mut conn = self.pool.acquire().await?;
        let sub = match req.lookup {
            Some(Lookup::SubscriptionId(id)) => {
                let id = tribe_kit::ids::parse_id("subscription_id", &id)?;
                self.visible_sub(&mut conn, caller, id, false, true).await?
            }
            Some(Lookup::UserId(user)) => {
                let user = super::subject(caller, &user)?;
                store::subscriptions::current(&mut conn, user)
                    .await?
                    .ok_or_else(|| ApiError::not_found("subscription"))?
            }
            None => store::subscriptions::current(&mut conn, caller.id())
                .await?
                .ok_or_else(|| ApiError::not_found("subscription"))?,
        };
        Ok(pb::GetSubscriptionResponse {
            subscription: Some(self.view(&mut conn, &sub).await?),
        })
    }
}
