//! The gRPC client of the user service's internal RPCs, called with this service's own
//! credential: creator and participant summaries (BatchGetUsers) and preferred time
//! zones (BatchGetTimeZones).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::Channel;
use tribe_kit::auth::{ServiceCredential, lazy_channel};
use tribe_proto::r#type::v1::UserSummary;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use uuid::Uuid;

/// A lazily connected client of the user service.
#[derive(Clone, Debug)]
pub struct UserClient {
    client: UserServiceClient<Channel>,
    credential: ServiceCredential,
}

impl UserClient {
    /// `url` like http://127.0.0.1:50051; `credential` signs the calls.
    pub fn new(url: &str, credential: ServiceCredential) -> anyhow::Result<Self> {
        Ok(Self {
            client: UserServiceClient::new(lazy_channel(url, Duration::from_secs(5))?),
            credential,
        })
    }

    /// Summaries of the users in `ids` that exist, by id.
    pub async fn summaries(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, UserSummary>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let request = self.credential.request(upb::BatchGetUsersRequest {
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

    /// The preferred IANA time zone of each user in `ids` that exists.
    pub async fn time_zones(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, String>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let request = self.credential.request(upb::BatchGetTimeZonesRequest {
                user_ids: chunk.iter().map(Uuid::to_string).collect(),
            })?;
            let zones = self
                .client
                .clone()
                .batch_get_time_zones(request)
                .await
                .context("BatchGetTimeZones")?
                .into_inner()
                .time_zones;
            for (id, zone) in zones {
                if let Ok(id) = Uuid::parse_str(&id) {
                    out.insert(id, zone);
                }
            }
        }
        Ok(out)
    }
}
