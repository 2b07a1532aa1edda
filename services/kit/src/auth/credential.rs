//! A service's own credential for calling other services' internal RPCs, and the lazily
//! connected channel those calls go over.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::{Channel, Endpoint};

use super::{KeyPair, TokenSigner};

/// Signs short-lived service tokens as `service` with its key (`TRIBE_SERVICE_KEY_FILE`).
/// Without a key every request fails with "no service key configured", which callers
/// treat as the peer being unavailable.
#[derive(Clone)]
pub struct ServiceCredential {
    service: &'static str,
    signer: Option<Arc<TokenSigner>>,
}

impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCredential")
            .field("service", &self.service)
            .field("has_key", &self.signer.is_some())
            .finish()
    }
}

impl ServiceCredential {
    pub fn new(service: &'static str, key: Option<KeyPair>, issuer: &str) -> Self {
        if key.is_none() {
            tracing::warn!(
                service,
                "TRIBE_SERVICE_KEY_FILE unset: internal calls will be refused"
            );
        }
        Self {
            service,
            signer: key.map(|k| Arc::new(TokenSigner::new(Arc::new(k), issuer))),
        }
    }

    /// `message` as a request carrying a fresh five-minute service token.
    pub fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let signer = self.signer.as_ref().context("no service key configured")?;
        let token = signer
            .service_token(self.service, Duration::from_secs(300))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        Ok(request)
    }
}

/// A channel to `url` (http://host:port) that connects on first use, with a 3 s connect
/// timeout and `timeout` per call.
pub fn lazy_channel(url: &str, timeout: Duration) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_string())
        .with_context(|| format!("service url {url:?}"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(timeout);
    Ok(endpoint.connect_lazy())
}
