//! A gRPC client of the content service: the fallback for authorship of posts whose
//! content events have not arrived yet (its internal BatchGetPosts, called with this
//! service's own credential).

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tonic::transport::Channel;
use tribe_kit::auth::{KeyPair, ServiceCredential, lazy_channel};
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
#[derive(Clone, Debug)]
pub struct ContentClient {
    client: ContentServiceClient<Channel>,
    credential: ServiceCredential,
}

impl ContentClient {
    /// `url` like http://127.0.0.1:50052; `key` is this service's own key.
    pub fn new(url: &str, key: KeyPair, issuer: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: ContentServiceClient::new(lazy_channel(url, Duration::from_secs(5))?),
            credential: ServiceCredential::new(SERVICE_NAME, Some(key), issuer),
        })
    }

    /// The posts among `post_ids` that exist (deleted and unknown ones are omitted).
    pub async fn posts(&self, post_ids: &[String]) -> anyhow::Result<Vec<KnownPost>> {
        let request = self.credential.request(cpb::BatchGetPostsRequest {
            post_ids: post_ids.to_vec(),
            ..Default::default()
        })?;
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
