//! The billing worker: settles INCOMPLETE subscriptions whose first charge was pending
//! (ACTIVE when it succeeds, EXPIRED when it fails or after 24 hours), renews due
//! subscriptions, retries failed renewals on the schedule, expires them after the last
//! failure and ends those canceled at period end (the steps are `service/billing.rs`).
//! It runs inside the service process (`TRIBE_PAYMENT_BILLING_WORKER`, default on);
//! several instances are safe because each due row is claimed with
//! `FOR UPDATE SKIP LOCKED` and every charge carries a derived provider idempotency key.

use std::time::Duration;

use crate::service::PaymentService;

#[derive(Debug, Clone)]
pub struct BillingWorker {
    svc: PaymentService,
    interval: Duration,
}

impl BillingWorker {
    pub fn new(svc: PaymentService, interval: Duration) -> Self {
        Self { svc, interval }
    }

    /// Processes everything due now; returns how many subscriptions were handled.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let n = self.svc.settle_incomplete().await? + self.svc.renew_due().await?;
        if n > 0 {
            tracing::info!(processed = n, "billing run");
        }
        if let Err(err) = tribe_kit::idempotency::purge_expired(self.svc.pool()).await {
            tracing::warn!(error = %err, "could not purge expired request ids");
        }
        Ok(n)
    }

    /// Runs until `shutdown` resolves.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(err) = self.run_once().await {
                tracing::warn!(error = format!("{err:#}"), "billing worker error");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
