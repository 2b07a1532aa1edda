//! Subscriptions: create (charging once per request_id), cancel and resume. Reads are in
//! `subscription_lookup.rs`, UpdateSubscription in `subscription_update.rs` and its plan
//! or cycle changes in `plan_change.rs`. Renewals are the billing worker's (`billing.rs`).

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations};
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::charges::{Charge, charge_key, decline_of};
use super::events::{canceled, changed, payment_failed, payment_succeeded, started};
use super::idempotency::{idempotent, params_hash};
use super::{PaymentService, description, emit};
use crate::convert;
use crate::domain::{BillingReason, Cycle, SubscriptionStatus, TxStatus};
use crate::store::{self, SubRow};

pub(super) fn ended() -> ApiError {
    ApiError::failed_precondition("SUBSCRIPTION_ENDED", "the subscription has ended")
}

impl PaymentService {
    pub async fn create_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateSubscriptionRequest,
    ) -> Result<pb::CreateSubscriptionResponse, ApiError> {
        let user = caller.id();
        let mut v = Violations::new();
        let plan_id = v.check(
            "plan_id",
            tribe_kit::ids::parse_id("plan_id", &req.plan_id).map_err(|e| description(&e)),
        );
        let cycle = convert::cycle_from_pb(req.billing_cycle);
        if cycle.is_none() {
            v.add("billing_cycle", "must be MONTHLY or YEARLY");
        }
        if !req.payment_method_id.is_empty() && Uuid::try_parse(&req.payment_method_id).is_err() {
            v.add("payment_method_id", "is not a valid id");
        }
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let (Some(plan_id), Some(cycle)) = (plan_id, cycle) else {
            return Err(ApiError::invalid_field("plan_id", "is invalid"));
        };
        let hash = params_hash(
            "CreateSubscription",
            &pb::CreateSubscriptionRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        idempotent!(
            self,
            caller.subject(),
            "CreateSubscription",
            &req.request_id,
            hash,
            |tx| { self.create_in(&mut tx, user, plan_id, cycle, &req).await }
        )
    }

    async fn create_in(
        &self,
        tx: &mut PgConnection,
        user: Uuid,
        plan_id: Uuid,
        cycle: Cycle,
        req: &pb::CreateSubscriptionRequest,
    ) -> Result<pb::CreateSubscriptionResponse, ApiError> {
        // One subscription creation per user at a time, whatever the request ids.
        store::lock(tx, &format!("subs:{user}")).await?;
        let plan = store::plans::get(tx, plan_id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        if !plan.active {
            return Err(ApiError::failed_precondition(
                "PLAN_INACTIVE",
                "the plan is not offered",
            ));
        }
        if store::subscriptions::has_live(tx, user).await? {
            return Err(ApiError::already_exists(
                "SUBSCRIPTION_EXISTS",
                "you already have a subscription; change it instead",
            ));
        }
        let method = self.method_for(tx, user, &req.payment_method_id).await?;
        let had_trial = store::subscriptions::had_trial(tx, user).await?;
        let now = self.clock.now();
        let mut sub = SubRow {
            id: tribe_kit::ids::new_id(),
            user_id: user,
            plan_id: plan.id,
            status: SubscriptionStatus::Active,
            billing_cycle: cycle,
            current_period_start: now,
            current_period_end: cycle.period_end(now),
            billing_anchor: now,
            trial_end: None,
            cancel_at_period_end: false,
            canceled_at: None,
            ended_at: None,
            payment_method_id: (!req.payment_method_id.is_empty()).then_some(method.id),
            retry_attempt: 0,
            next_retry_at: None,
            scheduled_plan_id: None,
            scheduled_cycle: None,
            created_at: now,
            updated_at: now,
        };
        let actor = user.to_string();
        let mut charged = None;
        if plan.trial_days > 0 && !had_trial {
            sub.status = SubscriptionStatus::Trialing;
            sub.current_period_end = now + chrono::Duration::days(plan.trial_days.into());
            sub.trial_end = Some(sub.current_period_end);
            sub.billing_anchor = sub.current_period_end;
        } else {
            let charge = Charge {
                user,
                subscription: None,
                method: Some(&method),
                amount: plan.price(cycle),
                currency: &plan.currency,
                reason: BillingReason::SubscriptionCreate,
                key: charge_key(&["create", &actor, &req.request_id]),
                off_session: false,
            };
            let mut t = self.charge(tx, charge).await?;
            match t.status {
                TxStatus::Succeeded => {}
                TxStatus::Pending => {
                    // The provider waits for the customer (3-D Secure): nothing is granted
                    // and nothing is announced until the billing worker sees it settle.
                    sub.status = SubscriptionStatus::Incomplete;
                    store::subscriptions::insert(tx, &sub).await?;
                    store::transactions::link(tx, t.id, sub.id).await?;
                    t.subscription_id = Some(sub.id);
                    return Ok(pb::CreateSubscriptionResponse {
                        subscription: Some(convert::subscription(&sub, &plan, None)),
                        transaction: Some(convert::transaction(&t)),
                    });
                }
                _ => {
                    emit(tx, user, &actor, payment_failed(&t, &plan, 1, None)).await?;
                    return Err(decline_of(&t));
                }
            }
            charged = Some(t);
        }
        store::subscriptions::insert(tx, &sub).await?;
        if let Some(t) = &mut charged {
            store::transactions::link(tx, t.id, sub.id).await?;
            t.subscription_id = Some(sub.id);
        }
        emit(tx, user, &actor, started(&sub, &plan)).await?;
        if let Some(t) = &charged {
            emit(tx, user, &actor, payment_succeeded(t, &sub, &plan)).await?;
        }
        Ok(pb::CreateSubscriptionResponse {
            subscription: Some(convert::subscription(&sub, &plan, None)),
            transaction: charged.as_ref().map(convert::transaction),
        })
    }

    pub async fn cancel_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::CancelSubscriptionRequest,
    ) -> Result<pb::CancelSubscriptionResponse, ApiError> {
        let id = tribe_kit::ids::parse_id("subscription_id", &req.subscription_id)?;
        tribe_kit::ids::parse_request_id(&req.request_id)?;
        let hash = params_hash(
            "CancelSubscription",
            &pb::CancelSubscriptionRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        idempotent!(
            self,
            caller.subject(),
            "CancelSubscription",
            &req.request_id,
            hash,
            |tx| { self.cancel_in(&mut tx, caller, id, req.immediately).await }
        )
    }

    async fn cancel_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        immediately: bool,
    ) -> Result<pb::CancelSubscriptionResponse, ApiError> {
        let before = self.visible_sub(tx, caller, id, true, true).await?;
        if before.status.is_terminal() {
            return Err(ended());
        }
        let plan = store::plans::get(tx, before.plan_id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        let now = self.clock.now();
        let mut sub = before.clone();
        let incomplete = sub.status == SubscriptionStatus::Incomplete;
        let now_ends = immediately || incomplete;
        if incomplete {
            self.abandon_pending(
                tx,
                sub.id,
                "canceled",
                "The subscription was canceled before the payment completed.",
            )
            .await?;
        }
        sub.canceled_at = Some(now);
        if now_ends {
            sub.status = SubscriptionStatus::Canceled;
            sub.ended_at = Some(now);
            sub.next_retry_at = None;
            sub.cancel_at_period_end = false;
        } else {
            sub.cancel_at_period_end = true;
        }
        sub.updated_at = now;
        store::subscriptions::save(tx, &sub).await?;
        let by_admin = caller.id() != sub.user_id;
        emit(
            tx,
            sub.user_id,
            caller.subject(),
            canceled(&sub, &plan, now_ends, by_admin),
        )
        .await?;
        Ok(pb::CancelSubscriptionResponse {
            subscription: Some(self.view(tx, &sub).await?),
        })
    }

    pub async fn resume_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::ResumeSubscriptionRequest,
    ) -> Result<pb::ResumeSubscriptionResponse, ApiError> {
        let id = tribe_kit::ids::parse_id("subscription_id", &req.subscription_id)?;
        tribe_kit::ids::parse_request_id(&req.request_id)?;
        let hash = params_hash(
            "ResumeSubscription",
            &pb::ResumeSubscriptionRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        idempotent!(
            self,
            caller.subject(),
            "ResumeSubscription",
            &req.request_id,
            hash,
            |tx| self.resume_in(&mut tx, caller, id).await
        )
    }

    async fn resume_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
    ) -> Result<pb::ResumeSubscriptionResponse, ApiError> {
        let before = self.visible_sub(tx, caller, id, true, false).await?;
        if before.status.is_terminal() {
            return Err(ended());
        }
        if !before.cancel_at_period_end {
            return Err(ApiError::failed_precondition(
                "NOT_CANCELING",
                "no cancellation is scheduled",
            ));
        }
        let plan = store::plans::get(tx, before.plan_id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        let now = self.clock.now();
        let mut sub = before.clone();
        sub.cancel_at_period_end = false;
        sub.canceled_at = None;
        sub.updated_at = now;
        store::subscriptions::save(tx, &sub).await?;
        emit(
            tx,
            sub.user_id,
            caller.subject(),
            changed(&before, &plan, &sub, &plan, now, None),
        )
        .await?;
        Ok(pb::ResumeSubscriptionResponse {
            subscription: Some(self.view(tx, &sub).await?),
        })
    }
}
