//! Subscriptions: create (charging once per request_id), read, change plan or cycle,
//! cancel and resume. Renewals are the billing worker's (`billing.rs`).

use chrono::{DateTime, Utc};
use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::charges::{Charge, charge_key, decline_of};
use super::events::{canceled, changed, payment_failed, payment_succeeded, started};
use super::idempotency::{idempotent, params_hash};
use super::{PaymentService, dangling, description, emit};
use crate::convert;
use crate::domain::{BillingReason, Cycle, SubscriptionStatus, TxStatus, proration};
use crate::store::{self, MethodRow, PlanRow, SubRow, TxRow};

const UPDATABLE: &[&str] = &[
    "plan_id",
    "billing_cycle",
    "cancel_at_period_end",
    "default_payment_method_id",
];

fn ended() -> ApiError {
    ApiError::failed_precondition("SUBSCRIPTION_ENDED", "the subscription has ended")
}

/// A validated UpdateSubscription request.
struct Update {
    id: Uuid,
    mask: UpdateMask,
    new_plan: Option<Uuid>,
    new_cycle: Option<Cycle>,
    input: pb::Subscription,
    request_id: String,
}

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
    async fn method_for(
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
    async fn visible_sub(
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

    pub async fn update_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateSubscriptionRequest,
    ) -> Result<pb::UpdateSubscriptionResponse, ApiError> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
        let input = req.subscription.clone().unwrap_or_default();
        let id = tribe_kit::ids::parse_id("subscription.subscription_id", &input.subscription_id)?;
        let mut v = Violations::new();
        let new_cycle = if mask.contains("billing_cycle") {
            let c = convert::cycle_from_pb(input.billing_cycle);
            if c.is_none() {
                v.add("subscription.billing_cycle", "must be MONTHLY or YEARLY");
            }
            c
        } else {
            None
        };
        let new_plan = if mask.contains("plan_id") {
            v.check(
                "subscription.plan_id",
                tribe_kit::ids::parse_id("plan_id", &input.plan_id).map_err(|e| description(&e)),
            )
        } else {
            None
        };
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let hash = params_hash(
            "UpdateSubscription",
            &pb::UpdateSubscriptionRequest {
                request_id: String::new(),
                ..req.clone()
            }
            .encode_to_vec(),
        );
        let update = Update {
            id,
            mask,
            new_plan,
            new_cycle,
            input,
            request_id: req.request_id.clone(),
        };
        idempotent!(
            self,
            caller.subject(),
            "UpdateSubscription",
            &req.request_id,
            hash,
            |tx| { self.update_in(&mut tx, caller, &update).await }
        )
    }

    async fn update_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        u: &Update,
    ) -> Result<pb::UpdateSubscriptionResponse, ApiError> {
        let before = self.visible_sub(tx, caller, u.id, true, false).await?;
        if before.status.is_terminal() {
            return Err(ended());
        }
        let before_plan = store::plans::get(tx, before.plan_id)
            .await?
            .ok_or_else(|| ApiError::not_found("plan"))?;
        let mut sub = before.clone();
        let now = self.clock.now();
        let actor = caller.subject();
        let mut events: Vec<Payload> = Vec::new();

        if u.mask.contains("default_payment_method_id") {
            sub.payment_method_id = if u.input.default_payment_method_id.is_empty() {
                None
            } else {
                Some(
                    self.method_for(tx, sub.user_id, &u.input.default_payment_method_id)
                        .await?
                        .id,
                )
            };
        }
        let (after_plan, charged) =
            if u.mask.contains("plan_id") || u.mask.contains("billing_cycle") {
                self.change_plan(tx, caller, u, &before_plan, &mut sub, now)
                    .await?
            } else {
                (before_plan.clone(), None)
            };
        if u.mask.contains("cancel_at_period_end")
            && u.input.cancel_at_period_end != before.cancel_at_period_end
        {
            sub.cancel_at_period_end = u.input.cancel_at_period_end;
            sub.canceled_at = u.input.cancel_at_period_end.then_some(now);
            if u.input.cancel_at_period_end {
                events.push(canceled(&sub, &after_plan, false, false));
            }
        }
        sub.updated_at = now;
        store::subscriptions::save(tx, &sub).await?;
        if sub.plan_id != before.plan_id
            || sub.billing_cycle != before.billing_cycle
            || sub.scheduled_plan_id != before.scheduled_plan_id
            || sub.scheduled_cycle != before.scheduled_cycle
            || (sub.cancel_at_period_end != before.cancel_at_period_end
                && !sub.cancel_at_period_end)
        {
            events.push(changed(
                &before,
                &before_plan,
                &sub,
                &after_plan,
                now,
                charged.as_ref().map(|t| t.id),
            ));
        }
        if let Some(t) = &charged {
            events.push(payment_succeeded(t, &sub, &after_plan));
        }
        for e in events {
            emit(tx, sub.user_id, actor, e).await?;
        }
        Ok(pb::UpdateSubscriptionResponse {
            subscription: Some(self.view(tx, &sub).await?),
            transaction: charged.as_ref().map(convert::transaction),
        })
    }

    /// Applies a plan or cycle change to `sub`: at once and free while trialing; an
    /// upgrade at once, charging the prorated difference off-session; anything else
    /// scheduled for the period end. Returns the plan in effect and the charge.
    async fn change_plan(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        u: &Update,
        before_plan: &PlanRow,
        sub: &mut SubRow,
        now: DateTime<Utc>,
    ) -> Result<(PlanRow, Option<TxRow>), ApiError> {
        match sub.status {
            SubscriptionStatus::PastDue => {
                return Err(ApiError::failed_precondition(
                    "SUBSCRIPTION_PAST_DUE",
                    "settle the failed payment first",
                ));
            }
            SubscriptionStatus::Incomplete => {
                return Err(ApiError::failed_precondition(
                    "SUBSCRIPTION_INCOMPLETE",
                    "the first payment is not confirmed yet",
                ));
            }
            _ => {}
        }
        let target = match u.new_plan {
            Some(pid) if pid != before_plan.id => {
                let p = store::plans::get(tx, pid)
                    .await?
                    .ok_or_else(|| ApiError::not_found("plan"))?;
                if !p.active {
                    return Err(ApiError::failed_precondition(
                        "PLAN_INACTIVE",
                        "the plan is not offered",
                    ));
                }
                if p.currency != before_plan.currency {
                    return Err(ApiError::failed_precondition(
                        "PLAN_CURRENCY_MISMATCH",
                        "the plan is priced in another currency",
                    ));
                }
                p
            }
            _ => before_plan.clone(),
        };
        let current_cycle = sub.billing_cycle;
        let target_cycle = u.new_cycle.unwrap_or(current_cycle);
        if sub.status == SubscriptionStatus::Trialing {
            sub.plan_id = target.id;
            sub.billing_cycle = target_cycle;
            sub.scheduled_plan_id = None;
            sub.scheduled_cycle = None;
            return Ok((target, None));
        }
        if target.tier_rank <= before_plan.tier_rank {
            sub.scheduled_plan_id = (target.id != before_plan.id).then_some(target.id);
            sub.scheduled_cycle = (target_cycle != current_cycle).then_some(target_cycle);
            return Ok((before_plan.clone(), None));
        }
        let left = (sub.current_period_end - now).num_seconds();
        let period = (sub.current_period_end - sub.current_period_start).num_seconds();
        let amount = proration(
            before_plan.price(current_cycle),
            target.price(current_cycle),
            left,
            period,
        )
        .ok_or_else(|| {
            ApiError::invalid_field("subscription.plan_id", "the prorated amount overflows")
        })?;
        let mut charged = None;
        if amount > 0 {
            let method = self.billing_method(tx, sub).await?.ok_or_else(|| {
                ApiError::failed_precondition("NO_PAYMENT_METHOD", "add a payment method first")
            })?;
            let charge = Charge {
                user: sub.user_id,
                subscription: Some(sub.id),
                method: Some(&method),
                amount,
                currency: &target.currency,
                reason: BillingReason::SubscriptionUpdate,
                key: charge_key(&["update", caller.subject(), &u.request_id]),
                off_session: true,
            };
            let t = self.charge(tx, charge).await?;
            if t.status != TxStatus::Succeeded {
                emit(
                    tx,
                    sub.user_id,
                    caller.subject(),
                    payment_failed(&t, &target, 1, None),
                )
                .await?;
                return Err(decline_of(&t));
            }
            charged = Some(t);
        }
        sub.plan_id = target.id;
        sub.scheduled_plan_id = None;
        sub.scheduled_cycle = (target_cycle != current_cycle).then_some(target_cycle);
        Ok((target, charged))
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
