//! The user service as other services see it: its internal lookups, called with the
//! caller service's own credential. One client for every service that shows people
//! (summaries) or counts days in their time zone.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use tonic::transport::Channel;
use tribe_proto::r#type::v1::UserSummary;
use tribe_proto::user::v1 as upb;
use tribe_proto::user::v1::user_service_client::UserServiceClient;
use uuid::Uuid;

use crate::auth::{ServiceCredential, lazy_channel};

/// Ids per internal batch call (the user service's limit).
const BATCH: usize = 500;

/// A lazily connected client of the user service's internal RPCs.
#[derive(Clone, Debug)]
pub struct UserDirectory {
    client: UserServiceClient<Channel>,
    credential: ServiceCredential,
}

impl UserDirectory {
    /// `url` like http://127.0.0.1:50051; `timeout` per call.
    pub fn new(
        url: &str,
        credential: ServiceCredential,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            client: UserServiceClient::new(lazy_channel(url, timeout)?),
            credential,
        })
    }

    /// The generated client and `message` signed with the service credential, for the
    /// user service's other internal RPCs (follower streams, relationships).
    pub fn call<T>(
        &self,
        message: T,
    ) -> anyhow::Result<(UserServiceClient<Channel>, tonic::Request<T>)> {
        Ok((self.client.clone(), self.credential.request(message)?))
    }

    /// Summaries of the users among `ids` that exist, by id.
    pub async fn summaries(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, UserSummary>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let (mut client, request) = self.call(upb::BatchGetUsersRequest {
                user_ids: chunk.iter().map(Uuid::to_string).collect(),
            })?;
            let users = client
                .batch_get_users(request)
                .await
                .context("BatchGetUsers")?
                .into_inner()
                .users;
            out.extend(
                users
                    .into_iter()
                    .filter_map(|u| Some((Uuid::parse_str(&u.user_id).ok()?, u))),
            );
        }
        Ok(out)
    }

    /// The preferred IANA time zone of each user among `ids` that exists.
    pub async fn time_zones(&self, ids: &[Uuid]) -> anyhow::Result<HashMap<Uuid, String>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(BATCH) {
            let (mut client, request) = self.call(upb::BatchGetTimeZonesRequest {
                user_ids: chunk.iter().map(Uuid::to_string).collect(),
            })?;
            let zones = client
                .batch_get_time_zones(request)
                .await
                .context("BatchGetTimeZones")?
                .into_inner()
                .time_zones;
            out.extend(
                zones
                    .into_iter()
                    .filter_map(|(id, zone)| Some((Uuid::parse_str(&id).ok()?, zone))),
            );
        }
        Ok(out)
    }
}
