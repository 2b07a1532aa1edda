//! The gRPC client of the user service: its internal RPCs, called with this service's own
//! credential (signed as `policy::SERVICE_NAME`): author summaries (BatchGetUsers) and
//! follower ids for fan-out (ListFollowerIds).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use tribe_kit::auth::{KeyPair, ServiceCredential};
use tribe_kit::peers::UserDirectory;
use tribe_proto::r#type::v1::UserSummary;
use tribe_proto::user::v1 as upb;
use uuid::Uuid;

use crate::policy::SERVICE_NAME;

/// A lazily connected client of the user service (the kit's `UserDirectory`, plus the
/// follower stream fan-out needs).
#[derive(Clone, Debug)]
pub struct UserClient {
    directory: UserDirectory,
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
        let credential = ServiceCredential::new(SERVICE_NAME, key, issuer);
        Ok(Self {
            directory: UserDirectory::new(url, credential, Duration::from_secs(10))?,
        })
    }

    /// Summaries of `ids` by id. On failure the caller degrades to id-only summaries.
    pub async fn summaries(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, UserSummary>> {
        self.directory.summaries(ids).await
    }

    /// Streams the followers of `author`; stops early once there are more than
    /// `threshold`.
    pub async fn followers(&self, author: Uuid, threshold: u64) -> anyhow::Result<Followers> {
        let (mut client, request) = self.directory.call(upb::ListFollowerIdsRequest {
            user_id: author.to_string(),
            after_user_id: String::new(),
            chunk_size: 1000,
        })?;
        let mut stream = match client.list_follower_ids(request).await {
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
