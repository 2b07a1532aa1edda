//! A gRPC client of the user service: its internal BatchGetUsers, called with this
//! service's own credential, says whether users exist and gives their summaries (handle,
//! display name, avatar). The local replica built from user events is `store::user_replica`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::{Channel, Endpoint};
use tribe_kit::auth::{KeyPair, TokenSigner};
use tribe_proto::r#type::v1::UserSummary;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use uuid::Uuid;

use crate::policy::SERVICE_NAME;

/// A lazily connected client of the user service.
#[derive(Clone)]
pub struct UserClient {
    client: UserServiceClient<Channel>,
    signer: Arc<TokenSigner>,
}

impl std::fmt::Debug for UserClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserClient").finish_non_exhaustive()
    }
}

impl UserClient {
    /// `url` like http://127.0.0.1:50051; `key` signs the service credentials.
    pub fn new(url: &str, key: KeyPair, issuer: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .with_context(|| format!("user service url {url:?}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(5));
        Ok(Self {
            client: UserServiceClient::new(endpoint.connect_lazy()),
            signer: Arc::new(TokenSigner::new(Arc::new(key), issuer)),
        })
    }

    /// Summaries of the existing users among `ids`.
    pub async fn summaries(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, UserSummary>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut request = tonic::Request::new(upb::BatchGetUsersRequest {
                user_ids: chunk.iter().map(Uuid::to_string).collect(),
            });
            let token = self
                .signer
                .service_token(SERVICE_NAME, Duration::from_secs(300))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
            let users = self
                .client
                .clone()
                .batch_get_users(request)
                .await
                .context("BatchGetUsers")?
                .into_inner()
                .users;
            for user in users {
                if let Ok(id) = Uuid::parse_str(&user.user_id) {
                    out.insert(id, user);
                }
            }
        }
        Ok(out)
    }
}
