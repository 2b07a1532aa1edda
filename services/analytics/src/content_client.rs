//! A gRPC client of the content service: the fallback for authorship of posts whose
//! content events have not arrived yet (its internal BatchGetPosts, called with this
//! service's own credential).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tonic::transport::{Channel, Endpoint};
use tribe_kit::auth::{KeyPair, TokenSigner};
use tribe_proto::content::v1 as cpb;
use tribe_proto::content::v1::content_service_client::ContentServiceClient;

use crate::policy::SERVICE_NAME;
use crate::time::datetime;

/// A post as the content service knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownPost {
    pub post_id: String,
    pub author_id: String,
    pub create_time: Option<DateTime<Utc>>,
}

/// A lazily connected client of the content service.
#[derive(Clone)]
pub struct ContentClient {
    client: ContentServiceClient<Channel>,
    signer: Arc<TokenSigner>,
}

impl std::fmt::Debug for ContentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentClient").finish_non_exhaustive()
    }
}

impl ContentClient {
    /// `url` like http://127.0.0.1:50052; `key` is this service's own key.
    pub fn new(url: &str, key: KeyPair, issuer: &str) -> anyhow::Result<Self> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .with_context(|| format!("content service url {url:?}"))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5));
        Ok(Self {
            client: ContentServiceClient::new(endpoint.connect_lazy()),
            signer: Arc::new(TokenSigner::new(Arc::new(key), issuer)),
        })
    }

    /// The posts among `post_ids` that exist (deleted and unknown ones are omitted).
    pub async fn posts(&self, post_ids: &[String]) -> anyhow::Result<Vec<KnownPost>> {
        let token = self
            .signer
            .service_token(SERVICE_NAME, Duration::from_secs(300))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut request = tonic::Request::new(cpb::BatchGetPostsRequest {
            post_ids: post_ids.to_vec(),
            ..Default::default()
        });
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        let posts = self
            .client
            .clone()
            .batch_get_posts(request)
            .await
            .context("BatchGetPosts")?
            .into_inner()
            .posts;
        Ok(posts
            .into_iter()
            .filter_map(|p| {
                let author_id = p.author.map(|a| a.user_id).filter(|a| !a.is_empty())?;
                Some(KnownPost {
                    create_time: p.create_time.as_ref().and_then(datetime),
                    post_id: p.post_id,
                    author_id,
                })
            })
            .collect())
    }
}
