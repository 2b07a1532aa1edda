//! The gRPC client of the user service: its internal RPCs, called with this service's own
//! credential (signed as `policy::SERVICE_NAME`): author summaries (BatchGetUsers) and
//! follower ids for fan-out (ListFollowerIds).

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
    signer: Option<Arc<TokenSigner>>,
}

impl std::fmt::Debug for UserClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserClient")
            .field("has_key", &self.signer.is_some())
            .finish()
    }
}

/// Followers of one author, as far as fan-out needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followers {
    /// All followers (at most the threshold).
    Few(Vec<Uuid>),
    /// More than the threshold: merge at read time instead.
    Many(u64),
}

impl UserClient {
    /// `url` like http://127.0.0.1:50051; `key` signs service credentials.
    pub fn new(url: &str, key: Option<KeyPair>, issuer: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .with_context(|| format!("user service url {url:?}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10));
        let client = UserServiceClient::new(endpoint.connect_lazy());
        let signer = key.map(|k| Arc::new(TokenSigner::new(Arc::new(k), issuer)));
        if signer.is_none() {
            tracing::warn!(
                "TRIBE_SERVICE_KEY_FILE unset: calls to the user service will be refused"
            );
        }
        Ok(Self { client, signer })
    }

    fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let mut request = tonic::Request::new(message);
        let signer = self.signer.as_ref().context("no service key configured")?;
        let token = signer
            .service_token(SERVICE_NAME, Duration::from_secs(300))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        Ok(request)
    }

    /// Summaries of `ids` by id. On failure the caller degrades to id-only summaries.
    pub async fn summaries(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, UserSummary>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let request = self.request(upb::BatchGetUsersRequest {
                user_ids: chunk.iter().map(Uuid::to_string).collect(),
            })?;
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

    /// Streams the followers of `author`; stops early once there are more than
    /// `threshold`.
    pub async fn followers(&self, author: Uuid, threshold: u64) -> anyhow::Result<Followers> {
        let request = self.request(upb::ListFollowerIdsRequest {
            user_id: author.to_string(),
            after_user_id: String::new(),
            chunk_size: 1000,
        })?;
        let mut stream = match self.client.clone().list_follower_ids(request).await {
            Ok(response) => response.into_inner(),
            // An author the user service does not know has nobody to push to.
            Err(status) if status.code() == tonic::Code::NotFound => {
                return Ok(Followers::Few(Vec::new()));
            }
            Err(status) => return Err(anyhow::anyhow!("ListFollowerIds: {status}")),
        };
        let mut ids = Vec::new();
        while let Some(chunk) = stream.message().await.context("ListFollowerIds stream")? {
            for raw in chunk.follower_ids {
                ids.push(Uuid::parse_str(&raw).context("follower id")?);
            }
            if ids.len() as u64 > threshold {
                return Ok(Followers::Many(ids.len() as u64));
            }
        }
        Ok(Followers::Few(ids))
    }
}
