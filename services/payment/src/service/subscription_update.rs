//! UpdateSubscription: the default payment method, cancellation at the period end, and
//! plan or cycle changes (`plan_change.rs`).

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1::event::Payload;
use tribe_proto::payment::v1 as pb;
use uuid::Uuid;

use super::events::{canceled, changed, payment_succeeded};
use super::idempotency::{idempotent, params_hash};
use super::subscriptions::ended;
use super::{PaymentService, description, emit};
use crate::convert;
use crate::domain::Cycle;
use crate::store;

const UPDATABLE: &[&str] = &[
    "plan_id",
    "billing_cycle",
    "cancel_at_period_end",
    "default_payment_method_id",
];

/// A validated UpdateSubscription request.
pub(super) struct Update {
    pub(super) id: Uuid,
    pub(super) mask: UpdateMask,
    pub(super) new_plan: Option<Uuid>,
    pub(super) new_cycle: Option<Cycle>,
    pub(super) input: pb::Subscription,
    pub(super) request_id: String,
}

impl PaymentService {
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
}
