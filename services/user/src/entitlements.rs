//! Keeps `users.tier` in step with the payment service, so newly issued access tokens
//! carry the current subscription tier. Consumes `tribe.payment.v1` idempotently.

use sqlx::PgConnection;
use tribe_kit::consumer::EventHandler;
use tribe_proto::events::v1::Event;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::r#type::v1::SubscriptionTier;

pub const GROUP: &str = "user-entitlements";
pub const TOPIC: &str = "tribe.payment.v1";

/// Applies the `entitlement_tier` of subscription events.
#[derive(Debug, Clone, Copy)]
pub struct TierUpdater;

fn tier_name(tier: i32) -> Option<&'static str> {
    match SubscriptionTier::try_from(tier).ok()? {
        SubscriptionTier::Free => Some("free"),
        SubscriptionTier::Premium => Some("premium"),
        SubscriptionTier::Pro => Some("pro"),
        SubscriptionTier::Unspecified => None,
    }
}

#[async_trait::async_trait]
impl EventHandler for TierUpdater {
    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
        let (user_id, tier) = match &event.payload {
            Some(Payload::SubscriptionStarted(e)) => (&e.user_id, e.entitlement_tier),
            Some(Payload::SubscriptionRenewed(e)) => (&e.user_id, e.entitlement_tier),
            Some(Payload::SubscriptionChanged(e)) => (&e.user_id, e.entitlement_tier),
            Some(Payload::SubscriptionCanceled(e)) => (&e.user_id, e.entitlement_tier),
            _ => return Ok(()),
        };
        let (Some(tier), Ok(user)) = (tier_name(tier), uuid::Uuid::parse_str(user_id)) else {
            tracing::warn!(event_id = %event.event_id, "subscription event without a usable user or tier; ignored");
            return Ok(());
        };
        let at = event
            .occur_time
            .as_ref()
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .unwrap_or_else(chrono::Utc::now);
        // Events of one user arrive in order (keyed by user id); the time guard also keeps
        // a redelivered older event from undoing a newer change.
        sqlx::query(
            "UPDATE users SET tier = $2, tier_changed_at = $3, updated_at = now()
             WHERE id = $1 AND (tier_changed_at IS NULL OR tier_changed_at <= $3)",
        )
        .bind(user)
        .bind(tier)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }
}
