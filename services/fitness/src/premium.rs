//! Premium access: the payment service's entitlement is the authority, trusted for a
//! short time; the token's tier claim decides when no payment service is configured or
//! it cannot answer (a payment outage must not lock paying users out, and a free claim
//! never unlocks anything the payment service did not confirm).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tribe_kit::auth::Tier;
use uuid::Uuid;

use crate::payment_client::PaymentClient;

/// Cached entitlements per user.
#[derive(Clone, Debug)]
pub struct Entitlements {
    payment: Option<PaymentClient>,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<Uuid, (Instant, bool)>>>,
}

/// Entries kept at most; the oldest half is dropped beyond it.
const MAX_CACHED: usize = 100_000;

impl Entitlements {
    pub fn new(payment: Option<PaymentClient>, ttl: Duration) -> Self {
        Self {
            payment,
            ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn cached(&self, user: Uuid) -> Option<bool> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(&user)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, paid)| *paid)
    }

    fn remember(&self, user: Uuid, paid: bool) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= MAX_CACHED {
                let ttl = self.ttl;
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
            }
            cache.insert(user, (Instant::now(), paid));
        }
    }

    /// Whether `user` (whose token claims `claim`) may open premium items now.
    pub async fn is_paid(&self, user: Uuid, claim: Tier) -> bool {
        let Some(payment) = &self.payment else {
            return claim.is_paid();
        };
        if let Some(paid) = self.cached(user) {
            return paid;
        }
        match payment.is_paid(user).await {
            Ok(paid) => {
                self.remember(user, paid);
                paid
            }
            Err(err) => {
                tracing::warn!(%user, error = %format!("{err:#}"), "entitlement unavailable: using the token's tier");
                claim.is_paid()
            }
        }
    }
}
