//! The gRPC client of the payment service's GetEntitlement, called with this service's
//! own credential.

use std::time::Duration;

use anyhow::Context;
use tonic::transport::Channel;
use tribe_kit::auth::{ServiceCredential, lazy_channel};
use tribe_proto::payment::v1 as ppb;
use tribe_proto::payment::v1::payment_service_client::PaymentServiceClient;
use tribe_proto::r#type::v1::SubscriptionTier;
use uuid::Uuid;

/// A lazily connected client of the payment service.
#[derive(Clone, Debug)]
pub struct PaymentClient {
    client: PaymentServiceClient<Channel>,
    credential: ServiceCredential,
}

impl PaymentClient {
    /// `url` like http://127.0.0.1:50056; `credential` signs the calls.
    pub fn new(url: &str, credential: ServiceCredential) -> anyhow::Result<Self> {
        Ok(Self {
            // Entitlements sit on the read path of premium items: fail fast.
            client: PaymentServiceClient::new(lazy_channel(url, Duration::from_secs(2))?),
            credential,
        })
    }

    /// Whether `user` has a paid tier (PREMIUM or PRO) now.
    pub async fn is_paid(&self, user: Uuid) -> anyhow::Result<bool> {
        let request = self.credential.request(ppb::GetEntitlementRequest {
            user_id: user.to_string(),
        })?;
        let entitlement = self
            .client
            .clone()
            .get_entitlement(request)
            .await
            .context("GetEntitlement")?
            .into_inner()
            .entitlement
            .unwrap_or_default();
        Ok(matches!(
            entitlement.tier(),
            SubscriptionTier::Premium | SubscriptionTier::Pro
        ))
    }
}
