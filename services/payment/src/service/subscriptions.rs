//! Subscriptions: create (charge once per request_id), read, change, cancel, resume, and
//! the renewal step the billing worker runs for each due subscription.

use chrono::{DateTime, Utc};
use prost::Message;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use tribe_proto::r#type::v1::SubscriptionTier;
use uuid::Uuid;

use super::{Error, Faults, PaymentService, Result, caller_id, emit, params_hash};
use crate::convert;
use crate::domain::{Cycle, INCOMPLETE_WINDOW_HOURS, RETRY_SCHEDULE_DAYS, status};
use crate::provider::ChargeOutcome;
use crate::store::{self, MethodRow, PlanRow, SUB_COLUMNS, SubRow, TxRow};

const UPDATABLE: &[&str] = &["plan_id", "billing_cycle", "cancel_at_period_end", "default_payment_method_id"];

/// The provider idempotency key of one logical charge: derived from what identifies it
/// (caller and request_id, or subscription, due time and attempt), so a retry after a
/// crash asks the provider for the same charge and gets the first result back.
pub fn charge_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    format!("tt_{}", h.finalize().iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn cycle(s: &SubRow) -> Cycle {
    Cycle::parse(&s.billing_cycle).unwrap_or(Cycle::Monthly)
}

fn entitlement_tier(s: &SubRow, plan: &PlanRow) -> i32 {
    if status::grants_tier(&s.status) { convert::tier(&plan.tier) as i32 } else { SubscriptionTier::Free as i32 }
}

/// One charge to make.
struct Charge<'a> {
    user: Uuid,
    subscription: Option<Uuid>,
    method: Option<&'a MethodRow>,
    amount: i64,
    currency: &'a str,
    reason: &'static str,
    key: String,
    /// The customer is not present (renewals, upgrades): the provider must not wait for
    /// their authentication.
    off_session: bool,
}

fn changed(
    before: &SubRow,
    before_plan: &PlanRow,
    after: &SubRow,
    after_plan: &PlanRow,
    at: DateTime<Utc>,
    transaction: Option<Uuid>,
) -> Payload {
    Payload::SubscriptionChanged(ev::SubscriptionChanged {
        user_id: after.user_id.to_string(),
        subscription_id: after.id.to_string(),
        previous_plan_id: before.plan_id.to_string(),
        plan_id: after.plan_id.to_string(),
        previous_tier: convert::tier(&before_plan.tier) as i32,
        tier: convert::tier(&after_plan.tier) as i32,
        previous_billing_cycle: before.billing_cycle.clone(),
        billing_cycle: after.billing_cycle.clone(),
        previous_status: before.status.clone(),
        status: after.status.clone(),
        cancel_at_period_end: after.cancel_at_period_end,
        current_period_end_time: Some(convert::ts(after.current_period_end)),
        effective_time: Some(convert::ts(at)),
        transaction_id: transaction.map(|t| t.to_string()).unwrap_or_default(),
        entitlement_tier: entitlement_tier(after, after_plan),
        scheduled_plan_id: after.scheduled_plan_id.map(|p| p.to_string()).unwrap_or_default(),
        scheduled_billing_cycle: after.scheduled_cycle.clone().unwrap_or_default(),
    })
}

fn payment_succeeded(t: &TxRow, sub: &SubRow, plan: &PlanRow) -> Payload {
    Payload::PaymentSucceeded(ev::PaymentSucceeded {
        user_id: t.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        transaction_id: t.id.to_string(),
        amount: Some(convert::money(t.amount_minor, &t.currency)),
        billing_reason: t.billing_reason.clone(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(&plan.tier) as i32,
        current_period_end_time: Some(convert::ts(sub.current_period_end)),
    })
}

fn payment_failed(t: &TxRow, plan: &PlanRow, attempt: i32, next_retry: Option<DateTime<Utc>>) -> Payload {
    Payload::PaymentFailed(ev::PaymentFailed {
        user_id: t.user_id.to_string(),
        subscription_id: t.subscription_id.map(|s| s.to_string()).unwrap_or_default(),
        transaction_id: t.id.to_string(),
        amount: Some(convert::money(t.amount_minor, &t.currency)),
        billing_reason: t.billing_reason.clone(),
        failure_code: t.failure_code.clone(),
        attempt,
        next_retry_time: convert::opt_ts(next_retry),
        plan_id: plan.id.to_string(),
        tier: convert::tier(&plan.tier) as i32,
    })
}

impl PaymentService {
    /// Records the intent (a PENDING transaction), asks the provider with the charge's
    /// idempotency key, and records the outcome, all in the caller's transaction. An
    /// already recorded charge with the same key is returned as is.
    async fn charge(&self, conn: &mut PgConnection, c: Charge<'_>) -> Result<TxRow> {
        if let Some(existing) =
            sqlx::query_as::<_, TxRow>(&format!("SELECT {} FROM transactions WHERE provider_key = $1", store::TX_COLUMNS))
                .bind(&c.key)
                .fetch_optional(&mut *conn)
                .await?
        {
            return Ok(existing);
        }
        let now = self.clock.now();
        let mut row = TxRow {
            id: tribe_kit::ids::new_id(),
            user_id: c.user,
            subscription_id: c.subscription,
            r#type: "CHARGE".into(),
            status: "PENDING".into(),
            currency: c.currency.into(),
            amount_minor: c.amount,
            refunded_minor: 0,
            billing_reason: c.reason.into(),
            refunded_transaction_id: None,
            refund_reason: String::new(),
            payment_method_id: c.method.map(|m| m.id),
            failure_code: String::new(),
            failure_message: String::new(),
            provider: c.method.map(|m| m.provider.clone()).unwrap_or_else(|| super::SANDBOX.into()),
            provider_ref: String::new(),
            provider_key: c.key.clone(),
            created_at: now,
            updated_at: now,
        };
        store::insert_transaction(conn, &row).await?;
        match c.method {
            None => apply_outcome(
                &mut row,
                ChargeOutcome::Declined { code: "no_payment_method".into(), message: "No payment method is on file.".into() },
            ),
            Some(method) => {
                let result = self
                    .provider
                    .charge(&c.key, &method.provider_ref, c.amount, c.currency, c.off_session)
                    .await
                    .map_err(super::provider_error)?;
                if Faults::take(&self.faults.crash_after_charge) {
                    return Err(ApiError::internal(anyhow::anyhow!("simulated crash between provider charge and commit")).into());
                }
                row.provider_ref = result.reference;
                apply_outcome(&mut row, result.outcome);
            }
        }
        save_outcome(conn, &row).await?;
        Ok(row)
    }

    /// The subscription with its plans, as returned to clients.
    pub(crate) async fn view(&self, conn: &mut PgConnection, s: &SubRow) -> Result<pb::Subscription> {
        let plan = store::plan(conn, s.plan_id).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("subscription without plan")))?;
        let scheduled = match s.scheduled_plan_id {
            Some(id) => store::plan(conn, id).await?,
            None => None,
        };
        Ok(convert::subscription(s, &plan, scheduled.as_ref()))
    }

    async fn method_for(&self, conn: &mut PgConnection, user: Uuid, id: &str) -> Result<MethodRow> {
        if id.is_empty() {
            return store::default_method(conn, user)
                .await?
                .ok_or_else(|| ApiError::failed_precondition("NO_PAYMENT_METHOD", "add a payment method first").into());
        }
        let id = tribe_kit::ids::parse_id("payment_method_id", id)?;
        match store::method(conn, id).await? {
            Some(m) if m.user_id == user => Ok(m),
            _ => Err(ApiError::not_found("payment method").into()),
        }
    }

    pub async fn create_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateSubscriptionRequest,
    ) -> Result<pb::CreateSubscriptionResponse> {
        let user = caller.id();
        let mut v = tribe_kit::Violations::new();
        let plan_id = v.check("plan_id", tribe_kit::ids::parse_id("plan_id", &req.plan_id).map_err(|e| short(&e)));
        let cycle = convert::cycle_from_pb(req.billing_cycle);
        if cycle.is_none() {
            v.add("billing_cycle", "must be MONTHLY or YEARLY");
        }
        if !req.payment_method_id.is_empty() && uuid::Uuid::try_parse(&req.payment_method_id).is_err() {
            v.add("payment_method_id", "is not a valid id");
        }
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let (Some(plan_id), Some(cycle)) = (plan_id, cycle) else { return Err(ApiError::invalid_field("plan_id", "is invalid").into()) };
        let hash =
            params_hash("CreateSubscription", &pb::CreateSubscriptionRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "CreateSubscription", &req.request_id, hash, |tx| {
            self.create_in(&mut tx, user, plan_id, cycle, &req).await
        })
    }

    async fn create_in(
        &self,
        tx: &mut PgConnection,
        user: Uuid,
        plan_id: Uuid,
        cycle: Cycle,
        req: &pb::CreateSubscriptionRequest,
    ) -> Result<pb::CreateSubscriptionResponse> {
        // One subscription creation per user at a time, whatever the request ids.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('subs:' || $1::text, 0))").bind(user).execute(&mut *tx).await?;
        let plan = store::plan(tx, plan_id).await?.ok_or_else(|| ApiError::not_found("plan"))?;
        if !plan.active {
            return Err(ApiError::failed_precondition("PLAN_INACTIVE", "the plan is not offered").into());
        }
        let live: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE'))",
        )
        .bind(user)
        .fetch_one(&mut *tx)
        .await?;
        if live {
            return Err(ApiError::already_exists("SUBSCRIPTION_EXISTS", "you already have a subscription; change it instead").into());
        }
        let method = self.method_for(tx, user, &req.payment_method_id).await?;
        let had_trial: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM subscriptions WHERE user_id = $1 AND trial_end IS NOT NULL)")
                .bind(user)
                .fetch_one(&mut *tx)
                .await?;
        let now = self.clock.now();
        let mut sub = SubRow {
            id: tribe_kit::ids::new_id(),
            user_id: user,
            plan_id: plan.id,
            status: status::ACTIVE.into(),
            billing_cycle: cycle.as_str().into(),
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
        let mut charged = None;
        if plan.trial_days > 0 && !had_trial {
            sub.status = status::TRIALING.into();
            sub.current_period_end = now + chrono::Duration::days(plan.trial_days.into());
            sub.trial_end = Some(sub.current_period_end);
            sub.billing_anchor = sub.current_period_end;
        } else {
            let key = charge_key(&["create", &user.to_string(), &req.request_id]);
            let price = plan.price(cycle);
            let t = self
                .charge(
                    tx,
                    Charge {
                        user,
                        subscription: None,
                        method: Some(&method),
                        amount: price,
                        currency: &plan.currency,
                        reason: "SUBSCRIPTION_CREATE",
                        key,
                        off_session: false,
                    },
                )
                .await?;
            if t.status == "PENDING" {
                // The provider waits for the customer (3-D Secure): nothing is granted and
                // nothing is announced until the billing worker sees the charge settle.
                sub.status = status::INCOMPLETE.into();
                store::insert_subscription(tx, &sub).await?;
                let t = link_transaction(tx, t, sub.id).await?;
                return Ok(pb::CreateSubscriptionResponse {
                    subscription: Some(convert::subscription(&sub, &plan, None)),
                    transaction: Some(convert::transaction(&t)),
                });
            }
            if t.status != "SUCCEEDED" {
                emit(tx, user, &user.to_string(), payment_failed(&t, &plan, 1, None)).await?;
                return Err(Error::Declined {
                    transaction_id: t.id.to_string(),
                    failure_code: t.failure_code.clone(),
                    message: t.failure_message.clone(),
                });
            }
            charged = Some(t);
        }
        store::insert_subscription(tx, &sub).await?;
        let actor = user.to_string();
        if let Some(t) = charged.take() {
            charged = Some(link_transaction(tx, t, sub.id).await?);
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

    /// A subscription the caller may see: their own, or any for admins.
    async fn visible_sub(
        &self,
        conn: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        for_update: bool,
        admin_ok: bool,
    ) -> Result<SubRow> {
        let me = caller.id();
        match store::subscription(conn, id, for_update).await? {
            Some(s) if s.user_id == me || (admin_ok && caller.is_admin()) => Ok(s),
            _ => Err(ApiError::not_found("subscription").into()),
        }
    }

    pub async fn get_subscription(&self, caller: &UserPrincipal, req: pb::GetSubscriptionRequest) -> Result<pb::GetSubscriptionResponse> {
        use pb::get_subscription_request::Lookup;
        let mut conn = self.pool.acquire().await?;
        let sub = match req.lookup {
            Some(Lookup::SubscriptionId(id)) => {
                let id = tribe_kit::ids::parse_id("subscription_id", &id)?;
                self.visible_sub(&mut conn, caller, id, false, true).await?
            }
            Some(Lookup::UserId(user)) => {
                let user = super::subject(caller, &user)?;
                store::current_subscription(&mut conn, user).await?.ok_or_else(|| ApiError::not_found("subscription"))?
            }
            None => store::current_subscription(&mut conn, caller.id()).await?.ok_or_else(|| ApiError::not_found("subscription"))?,
        };
        Ok(pb::GetSubscriptionResponse { subscription: Some(self.view(&mut conn, &sub).await?) })
    }

    pub async fn update_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateSubscriptionRequest,
    ) -> Result<pb::UpdateSubscriptionResponse> {
        let mask = UpdateMask::parse(req.update_mask.as_ref(), UPDATABLE)?;
        let input = req.subscription.clone().unwrap_or_default();
        let id = tribe_kit::ids::parse_id("subscription.subscription_id", &input.subscription_id)?;
        let mut v = tribe_kit::Violations::new();
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
            v.check("subscription.plan_id", tribe_kit::ids::parse_id("plan_id", &input.plan_id).map_err(|e| short(&e)))
        } else {
            None
        };
        if tribe_kit::ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }
        v.finish()?;
        let hash =
            params_hash("UpdateSubscription", &pb::UpdateSubscriptionRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "UpdateSubscription", &req.request_id, hash, |tx| {
            self.update_in(&mut tx, caller, id, &mask, new_plan, new_cycle, &input, &req.request_id).await
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        mask: &UpdateMask,
        new_plan: Option<Uuid>,
        new_cycle: Option<Cycle>,
        input: &pb::Subscription,
        request_id: &str,
    ) -> Result<pb::UpdateSubscriptionResponse> {
        let before = self.visible_sub(tx, caller, id, true, false).await?;
        if status::is_terminal(&before.status) {
            return Err(ApiError::failed_precondition("SUBSCRIPTION_ENDED", "the subscription has ended").into());
        }
        let before_plan = store::plan(tx, before.plan_id).await?.ok_or_else(|| ApiError::not_found("plan"))?;
        let mut sub = before.clone();
        let now = self.clock.now();
        let actor = caller.subject().to_string();
        let mut charged = None;
        let mut events: Vec<Payload> = Vec::new();

        if mask.contains("default_payment_method_id") {
            sub.payment_method_id = if input.default_payment_method_id.is_empty() {
                None
            } else {
                Some(self.method_for(tx, sub.user_id, &input.default_payment_method_id).await?.id)
            };
        }
        let mut after_plan = before_plan.clone();
        if mask.contains("plan_id") || mask.contains("billing_cycle") {
            match sub.status.as_str() {
                status::PAST_DUE => {
                    return Err(ApiError::failed_precondition("SUBSCRIPTION_PAST_DUE", "settle the failed payment first").into());
                }
                status::INCOMPLETE => {
                    return Err(ApiError::failed_precondition("SUBSCRIPTION_INCOMPLETE", "the first payment is not confirmed yet").into());
                }
                _ => {}
            }
            let target = match new_plan {
                Some(pid) if pid != before_plan.id => {
                    let p = store::plan(tx, pid).await?.ok_or_else(|| ApiError::not_found("plan"))?;
                    if !p.active {
                        return Err(ApiError::failed_precondition("PLAN_INACTIVE", "the plan is not offered").into());
                    }
                    if p.currency != before_plan.currency {
                        return Err(
                            ApiError::failed_precondition("PLAN_CURRENCY_MISMATCH", "the plan is priced in another currency").into()
                        );
                    }
                    p
                }
                _ => before_plan.clone(),
            };
            let target_cycle = new_cycle.unwrap_or(cycle(&before));
            if sub.status == status::TRIALING {
                sub.plan_id = target.id;
                sub.billing_cycle = target_cycle.as_str().into();
                sub.scheduled_plan_id = None;
                sub.scheduled_cycle = None;
                after_plan = target;
            } else if target.tier_rank > before_plan.tier_rank {
                let current_cycle = cycle(&before);
                let left = (sub.current_period_end - now).num_seconds();
                let period = (sub.current_period_end - sub.current_period_start).num_seconds();
                let amount = crate::domain::proration(before_plan.price(current_cycle), target.price(current_cycle), left, period)
                    .ok_or_else(|| ApiError::invalid_field("subscription.plan_id", "the prorated amount overflows"))?;
                if amount > 0 {
                    let method = match sub.payment_method_id {
                        Some(m) => store::method(tx, m).await?,
                        None => store::default_method(tx, sub.user_id).await?,
                    };
                    let method = method.ok_or_else(|| ApiError::failed_precondition("NO_PAYMENT_METHOD", "add a payment method first"))?;
                    let key = charge_key(&["update", caller.subject(), request_id]);
                    let t = self
                        .charge(
                            tx,
                            Charge {
                                user: sub.user_id,
                                subscription: Some(sub.id),
                                method: Some(&method),
                                amount,
                                currency: &target.currency,
                                reason: "SUBSCRIPTION_UPDATE",
                                key,
                                off_session: true,
                            },
                        )
                        .await?;
                    if t.status != "SUCCEEDED" {
                        emit(tx, sub.user_id, &actor, payment_failed(&t, &target, 1, None)).await?;
                        return Err(Error::Declined {
                            transaction_id: t.id.to_string(),
                            failure_code: t.failure_code.clone(),
                            message: t.failure_message.clone(),
                        });
                    }
                    charged = Some(t);
                }
                sub.plan_id = target.id;
                sub.scheduled_plan_id = None;
                sub.scheduled_cycle = (target_cycle != current_cycle).then(|| target_cycle.as_str().to_string());
                after_plan = target;
            } else {
                sub.scheduled_plan_id = (target.id != before_plan.id).then_some(target.id);
                sub.scheduled_cycle = (target_cycle != cycle(&before)).then(|| target_cycle.as_str().to_string());
            }
        }
        if mask.contains("cancel_at_period_end") && input.cancel_at_period_end != before.cancel_at_period_end {
            sub.cancel_at_period_end = input.cancel_at_period_end;
            sub.canceled_at = input.cancel_at_period_end.then_some(now);
            if input.cancel_at_period_end {
                events.push(canceled(&sub, &after_plan, false, false));
            }
        }
        sub.updated_at = now;
        store::save_subscription(tx, &sub).await?;
        if sub.plan_id != before.plan_id
            || sub.billing_cycle != before.billing_cycle
            || sub.scheduled_plan_id != before.scheduled_plan_id
            || sub.scheduled_cycle != before.scheduled_cycle
            || (sub.cancel_at_period_end != before.cancel_at_period_end && !sub.cancel_at_period_end)
        {
            events.push(changed(&before, &before_plan, &sub, &after_plan, now, charged.as_ref().map(|t| t.id)));
        }
        if let Some(t) = &charged {
            events.push(payment_succeeded(t, &sub, &after_plan));
        }
        for e in events {
            emit(tx, sub.user_id, &actor, e).await?;
        }
        Ok(pb::UpdateSubscriptionResponse {
            subscription: Some(self.view(tx, &sub).await?),
            transaction: charged.as_ref().map(convert::transaction),
        })
    }

    pub async fn cancel_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::CancelSubscriptionRequest,
    ) -> Result<pb::CancelSubscriptionResponse> {
        let id = tribe_kit::ids::parse_id("subscription_id", &req.subscription_id)?;
        tribe_kit::ids::parse_request_id(&req.request_id)?;
        let hash =
            params_hash("CancelSubscription", &pb::CancelSubscriptionRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "CancelSubscription", &req.request_id, hash, |tx| {
            self.cancel_in(&mut tx, caller, id, req.immediately).await
        })
    }

    async fn cancel_in(
        &self,
        tx: &mut PgConnection,
        caller: &UserPrincipal,
        id: Uuid,
        immediately: bool,
    ) -> Result<pb::CancelSubscriptionResponse> {
        let before = self.visible_sub(tx, caller, id, true, true).await?;
        if status::is_terminal(&before.status) {
            return Err(ApiError::failed_precondition("SUBSCRIPTION_ENDED", "the subscription has ended").into());
        }
        let plan = store::plan(tx, before.plan_id).await?.ok_or_else(|| ApiError::not_found("plan"))?;
        let now = self.clock.now();
        let mut sub = before.clone();
        let now_ends = immediately || sub.status == status::INCOMPLETE;
        if sub.status == status::INCOMPLETE {
            self.abandon_pending(tx, sub.id, "canceled", "The subscription was canceled before the payment completed.").await?;
        }
        sub.canceled_at = Some(now);
        if now_ends {
            sub.status = status::CANCELED.into();
            sub.ended_at = Some(now);
            sub.next_retry_at = None;
            sub.cancel_at_period_end = false;
        } else {
            sub.cancel_at_period_end = true;
        }
        sub.updated_at = now;
        store::save_subscription(tx, &sub).await?;
        let by_admin = caller.user_id != sub.user_id.to_string();
        emit(tx, sub.user_id, caller.subject(), canceled(&sub, &plan, now_ends, by_admin)).await?;
        Ok(pb::CancelSubscriptionResponse { subscription: Some(self.view(tx, &sub).await?) })
    }

    pub async fn resume_subscription(
        &self,
        caller: &UserPrincipal,
        req: pb::ResumeSubscriptionRequest,
    ) -> Result<pb::ResumeSubscriptionResponse> {
        let id = tribe_kit::ids::parse_id("subscription_id", &req.subscription_id)?;
        tribe_kit::ids::parse_request_id(&req.request_id)?;
        let hash =
            params_hash("ResumeSubscription", &pb::ResumeSubscriptionRequest { request_id: String::new(), ..req.clone() }.encode_to_vec());
        super::idempotent!(self, caller.subject(), "ResumeSubscription", &req.request_id, hash, |tx| {
            self.resume_in(&mut tx, caller, id).await
        })
    }

    async fn resume_in(&self, tx: &mut PgConnection, caller: &UserPrincipal, id: Uuid) -> Result<pb::ResumeSubscriptionResponse> {
        let before = self.visible_sub(tx, caller, id, true, false).await?;
        if status::is_terminal(&before.status) {
            return Err(ApiError::failed_precondition("SUBSCRIPTION_ENDED", "the subscription has ended").into());
        }
        if !before.cancel_at_period_end {
            return Err(ApiError::failed_precondition("NOT_CANCELING", "no cancellation is scheduled").into());
        }
        let plan = store::plan(tx, before.plan_id).await?.ok_or_else(|| ApiError::not_found("plan"))?;
        let now = self.clock.now();
        let mut sub = before.clone();
        sub.cancel_at_period_end = false;
        sub.canceled_at = None;
        sub.updated_at = now;
        store::save_subscription(tx, &sub).await?;
        emit(tx, sub.user_id, caller.subject(), changed(&before, &plan, &sub, &plan, now, None)).await?;
        Ok(pb::ResumeSubscriptionResponse { subscription: Some(self.view(tx, &sub).await?) })
    }

    /// The pending charge of an INCOMPLETE subscription, locked.
    async fn pending_charge(&self, tx: &mut PgConnection, subscription: Uuid) -> Result<Option<TxRow>> {
        Ok(sqlx::query_as::<_, TxRow>(&format!(
            "SELECT {} FROM transactions WHERE subscription_id = $1 AND type = 'CHARGE' AND status = 'PENDING'
             ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE",
            store::TX_COLUMNS
        ))
        .bind(subscription)
        .fetch_optional(&mut *tx)
        .await?)
    }

    /// Records a charge's final outcome.
    async fn finish_charge(&self, tx: &mut PgConnection, t: &mut TxRow, outcome: ChargeOutcome) -> Result<()> {
        if outcome == ChargeOutcome::Pending {
            return Ok(());
        }
        apply_outcome(t, outcome);
        t.updated_at = self.clock.now();
        save_outcome(tx, t).await
    }

    /// Cancels the pending first charge of an INCOMPLETE subscription at the provider and
    /// records it as failed with `code`.
    async fn abandon_pending(&self, tx: &mut PgConnection, subscription: Uuid, code: &str, message: &str) -> Result<Option<TxRow>> {
        let Some(mut t) = self.pending_charge(tx, subscription).await? else { return Ok(None) };
        if !t.provider_ref.is_empty() {
            self.provider.cancel(&t.provider_ref).await.map_err(super::provider_error)?;
        }
        self.finish_charge(tx, &mut t, ChargeOutcome::Declined { code: code.into(), message: message.into() }).await?;
        Ok(Some(t))
    }

    /// Settles one INCOMPLETE subscription (locked by the caller) from its first charge:
    /// ACTIVE from `now` when the charge succeeded, EXPIRED when it was declined or
    /// [`INCOMPLETE_WINDOW_HOURS`] passed without an answer. Returns whether it changed.
    async fn settle_one(&self, tx: &mut PgConnection, before: SubRow, now: DateTime<Utc>) -> Result<bool> {
        let plan =
            store::plan(tx, before.plan_id).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("subscription without plan")))?;
        let expired = now >= before.created_at + chrono::Duration::hours(INCOMPLETE_WINDOW_HOURS);
        let charge = self.pending_charge(tx, before.id).await?;
        let outcome = match &charge {
            Some(t) if !t.provider_ref.is_empty() => self.provider.retrieve(&t.provider_ref).await.map_err(super::provider_error)?.outcome,
            _ => ChargeOutcome::Pending,
        };
        let mut sub = before.clone();
        let mut events = Vec::new();
        match (outcome, charge) {
            (ChargeOutcome::Succeeded, Some(mut t)) => {
                self.finish_charge(tx, &mut t, ChargeOutcome::Succeeded).await?;
                sub.status = status::ACTIVE.into();
                sub.current_period_start = now;
                sub.billing_anchor = now;
                sub.current_period_end = cycle(&sub).period_end(now);
                events.push(started(&sub, &plan));
                events.push(payment_succeeded(&t, &sub, &plan));
            }
            (ChargeOutcome::Declined { code, message }, Some(mut t)) => {
                self.finish_charge(tx, &mut t, ChargeOutcome::Declined { code, message }).await?;
                sub.status = status::EXPIRED.into();
                sub.ended_at = Some(now);
                events.push(payment_failed(&t, &plan, 1, None));
            }
            (_, _) if expired => {
                let t = self.abandon_pending(tx, before.id, "incomplete_expired", "The payment was not completed within 24 hours.").await?;
                sub.status = status::EXPIRED.into();
                sub.ended_at = Some(now);
                events.extend(t.map(|t| payment_failed(&t, &plan, 1, None)));
            }
            _ => return Ok(false),
        }
        if sub.status == status::EXPIRED {
            events.push(changed(&before, &plan, &sub, &plan, now, None));
        }
        sub.updated_at = now;
        store::save_subscription(tx, &sub).await?;
        for e in events {
            emit(tx, sub.user_id, "system:billing", e).await?;
        }
        Ok(true)
    }

    /// Renews, retries, expires or ends one due subscription (locked by the caller).
    async fn bill_one(&self, tx: &mut PgConnection, before: SubRow, now: DateTime<Utc>) -> Result<()> {
        let before_plan =
            store::plan(tx, before.plan_id).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("subscription without plan")))?;
        let mut sub = before.clone();
        let actor = "system:billing";
        if sub.cancel_at_period_end {
            sub.status = status::CANCELED.into();
            sub.ended_at = Some(if before.status == status::PAST_DUE { now } else { sub.current_period_end });
            sub.next_retry_at = None;
            sub.updated_at = now;
            store::save_subscription(tx, &sub).await?;
            return emit(tx, sub.user_id, actor, changed(&before, &before_plan, &sub, &before_plan, now, None)).await;
        }
        let attempt = if before.status == status::PAST_DUE { before.retry_attempt + 1 } else { 1 };
        if before.status != status::PAST_DUE {
            if let Some(p) = sub.scheduled_plan_id.take() {
                sub.plan_id = p;
            }
            if let Some(c) = sub.scheduled_cycle.take() {
                sub.billing_cycle = c;
            }
        }
        let plan = store::plan(tx, sub.plan_id).await?.ok_or_else(|| ApiError::internal(anyhow::anyhow!("scheduled plan missing")))?;
        let cyc = cycle(&sub);
        let due = sub.current_period_end;
        let method = match sub.payment_method_id {
            Some(m) => store::method(tx, m).await?,
            None => store::default_method(tx, sub.user_id).await?,
        };
        let reason =
            if before.status == status::TRIALING || before.trial_end == Some(due) { "SUBSCRIPTION_CREATE" } else { "SUBSCRIPTION_CYCLE" };
        let key = charge_key(&["renew", &sub.id.to_string(), &due.timestamp().to_string(), &attempt.to_string()]);
        let t = self
            .charge(
                tx,
                Charge {
                    user: sub.user_id,
                    subscription: Some(sub.id),
                    method: method.as_ref(),
                    amount: plan.price(cyc),
                    currency: &plan.currency,
                    reason,
                    key,
                    off_session: true,
                },
            )
            .await?;
        let mut events = Vec::new();
        if t.status == "SUCCEEDED" {
            sub.status = status::ACTIVE.into();
            if before.status == status::TRIALING || before.billing_cycle != sub.billing_cycle {
                sub.billing_anchor = due;
            }
            sub.current_period_start = due;
            sub.current_period_end = cyc.next_period_end(sub.billing_anchor, due);
            sub.retry_attempt = 0;
            sub.next_retry_at = None;
            events.push(Payload::SubscriptionRenewed(ev::SubscriptionRenewed {
                user_id: sub.user_id.to_string(),
                subscription_id: sub.id.to_string(),
                plan_id: plan.id.to_string(),
                tier: convert::tier(&plan.tier) as i32,
                billing_cycle: sub.billing_cycle.clone(),
                current_period_start_time: Some(convert::ts(sub.current_period_start)),
                current_period_end_time: Some(convert::ts(sub.current_period_end)),
                transaction_id: t.id.to_string(),
                amount: Some(convert::money(t.amount_minor, &t.currency)),
                entitlement_tier: convert::tier(&plan.tier) as i32,
            }));
            events.push(payment_succeeded(&t, &sub, &plan));
            if before.status == status::PAST_DUE || before.plan_id != sub.plan_id || before.billing_cycle != sub.billing_cycle {
                events.push(changed(&before, &before_plan, &sub, &plan, now, None));
            }
        } else {
            let retry = RETRY_SCHEDULE_DAYS.get(attempt as usize - 1).map(|d| due + chrono::Duration::days(*d));
            match retry {
                Some(at) => {
                    sub.status = status::PAST_DUE.into();
                    sub.retry_attempt = attempt;
                    sub.next_retry_at = Some(at);
                }
                None => {
                    sub.status = status::EXPIRED.into();
                    sub.ended_at = Some(now);
                    sub.next_retry_at = None;
                }
            }
            events.push(payment_failed(&t, &plan, attempt, retry));
            if sub.status != before.status || before.plan_id != sub.plan_id {
                events.push(changed(&before, &before_plan, &sub, &plan, now, None));
            }
        }
        sub.updated_at = now;
        store::save_subscription(tx, &sub).await?;
        for e in events {
            emit(tx, sub.user_id, actor, e).await?;
        }
        Ok(())
    }
}

fn started(sub: &SubRow, plan: &PlanRow) -> Payload {
    Payload::SubscriptionStarted(ev::SubscriptionStarted {
        user_id: sub.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(&plan.tier) as i32,
        billing_cycle: sub.billing_cycle.clone(),
        status: sub.status.clone(),
        current_period_start_time: Some(convert::ts(sub.current_period_start)),
        current_period_end_time: Some(convert::ts(sub.current_period_end)),
        trial_end_time: convert::opt_ts(sub.trial_end),
        price: Some(convert::money(plan.price(cycle(sub)), &plan.currency)),
        entitlement_tier: convert::tier(&plan.tier) as i32,
    })
}

/// Puts a provider's answer on a charge row; a pending answer leaves it PENDING.
fn apply_outcome(t: &mut TxRow, outcome: ChargeOutcome) {
    match outcome {
        ChargeOutcome::Succeeded => t.status = "SUCCEEDED".into(),
        ChargeOutcome::Declined { code, message } => {
            t.status = "FAILED".into();
            t.failure_code = code;
            t.failure_message = message;
        }
        ChargeOutcome::Pending => {}
    }
}

/// Writes a charge row's outcome: status, provider reference, failure and update time.
async fn save_outcome(conn: &mut PgConnection, t: &TxRow) -> Result<()> {
    sqlx::query(
        "UPDATE transactions SET status = $2, provider_ref = $3, failure_code = $4, failure_message = $5, updated_at = $6 WHERE id = $1",
    )
    .bind(t.id)
    .bind(&t.status)
    .bind(&t.provider_ref)
    .bind(&t.failure_code)
    .bind(&t.failure_message)
    .bind(t.updated_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Attaches a charge made before its subscription existed to that subscription.
async fn link_transaction(tx: &mut PgConnection, mut t: TxRow, subscription: Uuid) -> Result<TxRow> {
    sqlx::query("UPDATE transactions SET subscription_id = $2 WHERE id = $1").bind(t.id).bind(subscription).execute(&mut *tx).await?;
    t.subscription_id = Some(subscription);
    Ok(t)
}

fn canceled(sub: &SubRow, plan: &PlanRow, immediately: bool, by_admin: bool) -> Payload {
    Payload::SubscriptionCanceled(ev::SubscriptionCanceled {
        user_id: sub.user_id.to_string(),
        subscription_id: sub.id.to_string(),
        plan_id: plan.id.to_string(),
        tier: convert::tier(&plan.tier) as i32,
        immediately,
        end_time: Some(convert::ts(if immediately { sub.ended_at.unwrap_or(sub.updated_at) } else { sub.current_period_end })),
        by_admin,
        entitlement_tier: entitlement_tier(sub, plan),
    })
}

fn short(e: &ApiError) -> String {
    match e {
        ApiError::InvalidArgument { violations, .. } => violations.first().map(|v| v.description.clone()).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Settles every INCOMPLETE subscription whose first charge has an answer or whose
/// window closed, one row lock at a time with SKIP LOCKED. Returns how many changed.
pub async fn settle_incomplete(svc: &PaymentService) -> anyhow::Result<usize> {
    let mut after = Uuid::nil();
    let mut done = 0;
    loop {
        let now = svc.clock.now();
        let mut tx = svc.pool.begin().await?;
        let next: Option<SubRow> = sqlx::query_as(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions WHERE status = 'INCOMPLETE' AND id > $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ))
        .bind(after)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(sub) = next else { break };
        after = sub.id;
        match svc.settle_one(&mut tx, sub, now).await {
            Ok(true) => {
                tx.commit().await?;
                done += 1;
            }
            Ok(false) => tx.rollback().await?,
            Err(err) => tracing::warn!(subscription_id = %after, error = ?err, "could not settle; will retry on the next run"),
        }
    }
    Ok(done)
}

/// Processes every subscription due at the clock's "now", one row lock at a time with
/// SKIP LOCKED so several workers share the work. Returns how many were processed.
pub async fn renew_due(svc: &PaymentService) -> anyhow::Result<usize> {
    let mut done = 0;
    loop {
        let now = svc.clock.now();
        let mut tx = svc.pool.begin().await?;
        let due: Option<SubRow> = sqlx::query_as(&format!(
            "SELECT {SUB_COLUMNS} FROM subscriptions
             WHERE (status IN ('TRIALING', 'ACTIVE') AND current_period_end <= $1) OR (status = 'PAST_DUE' AND next_retry_at <= $1)
             ORDER BY current_period_end, id LIMIT 1 FOR UPDATE SKIP LOCKED"
        ))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(sub) = due else { break };
        let id = sub.id;
        match svc.bill_one(&mut tx, sub, now).await {
            Ok(()) => {
                tx.commit().await?;
                done += 1;
            }
            Err(err) => {
                tracing::warn!(subscription_id = %id, error = ?err, "billing failed; will retry on the next run");
                break;
            }
        }
        if done >= 10_000 {
            break;
        }
    }
    Ok(done)
}
