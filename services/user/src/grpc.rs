//! The generated `UserService` trait: identify the caller, call the use-case, map errors.

use std::pin::Pin;

use futures::Stream;
use tonic::{Request, Response, Status};
use tribe_kit::ApiError;
use tribe_kit::auth::Principal;
use tribe_kit::{as_service, as_user};
use tribe_proto::user::v1 as pb;
use tribe_proto::user::v1::user_service_server::UserService as Api;

use crate::policy::ERROR_DOMAIN;
use crate::service::UserService;

fn status(err: ApiError) -> Status {
    err.into_status(ERROR_DOMAIN)
}

/// The client address: Envoy's `x-envoy-external-address` when the call came through
/// the edge, the TCP peer otherwise.
fn client_ip<T>(request: &Request<T>) -> String {
    request
        .metadata()
        .get("x-envoy-external-address")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.remote_addr().map(|a| a.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

#[derive(Debug, Clone)]
pub struct UserApi {
    svc: UserService,
}

impl UserApi {
    pub fn new(svc: UserService) -> Self {
        Self { svc }
    }
}

type FollowerIdStream =
    Pin<Box<dyn Stream<Item = Result<pb::ListFollowerIdsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Api for UserApi {
    async fn register(
        &self,
        request: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let ip = client_ip(&request);
        self.svc
            .register(&ip, request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn login(
        &self,
        request: Request<pb::LoginRequest>,
    ) -> Result<Response<pb::LoginResponse>, Status> {
        let ip = client_ip(&request);
        self.svc
            .login(&ip, request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn refresh_token(
        &self,
        request: Request<pb::RefreshTokenRequest>,
    ) -> Result<Response<pb::RefreshTokenResponse>, Status> {
        self.svc
            .refresh(request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn logout(
        &self,
        request: Request<pb::LogoutRequest>,
    ) -> Result<Response<pb::LogoutResponse>, Status> {
        as_user!(self, request, logout)
    }

    async fn get_user(
        &self,
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::GetUserResponse>, Status> {
        as_user!(self, request, get_user)
    }

    async fn update_user(
        &self,
        request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::UpdateUserResponse>, Status> {
        as_user!(self, request, update_user)
    }

    async fn list_followers(
        &self,
        request: Request<pb::ListFollowersRequest>,
    ) -> Result<Response<pb::ListFollowersResponse>, Status> {
        as_user!(self, request, list_followers)
    }

    async fn list_following(
        &self,
        request: Request<pb::ListFollowingRequest>,
    ) -> Result<Response<pb::ListFollowingResponse>, Status> {
        as_user!(self, request, list_following)
    }

    async fn follow_user(
        &self,
        request: Request<pb::FollowUserRequest>,
    ) -> Result<Response<pb::FollowUserResponse>, Status> {
        as_user!(self, request, follow)
    }

    async fn unfollow_user(
        &self,
        request: Request<pb::UnfollowUserRequest>,
    ) -> Result<Response<pb::UnfollowUserResponse>, Status> {
        as_user!(self, request, unfollow)
    }

    async fn search_users(
        &self,
        request: Request<pb::SearchUsersRequest>,
    ) -> Result<Response<pb::SearchUsersResponse>, Status> {
        as_user!(self, request, search_users)
    }

    async fn get_preferences(
        &self,
        request: Request<pb::GetPreferencesRequest>,
    ) -> Result<Response<pb::GetPreferencesResponse>, Status> {
        as_user!(self, request, get_preferences)
    }

    async fn update_preferences(
        &self,
        request: Request<pb::UpdatePreferencesRequest>,
    ) -> Result<Response<pb::UpdatePreferencesResponse>, Status> {
        as_user!(self, request, update_preferences)
    }

    async fn set_social_link(
        &self,
        request: Request<pb::SetSocialLinkRequest>,
    ) -> Result<Response<pb::SetSocialLinkResponse>, Status> {
        as_user!(self, request, set_social_link)
    }

    async fn delete_social_link(
        &self,
        request: Request<pb::DeleteSocialLinkRequest>,
    ) -> Result<Response<pb::DeleteSocialLinkResponse>, Status> {
        as_user!(self, request, delete_social_link)
    }

    async fn list_specialties(
        &self,
        request: Request<pb::ListSpecialtiesRequest>,
    ) -> Result<Response<pb::ListSpecialtiesResponse>, Status> {
        as_user!(self, request, list_specialties)
    }

    async fn set_my_specialties(
        &self,
        request: Request<pb::SetMySpecialtiesRequest>,
    ) -> Result<Response<pb::SetMySpecialtiesResponse>, Status> {
        as_user!(self, request, set_my_specialties)
    }

    async fn list_achievements(
        &self,
        request: Request<pb::ListAchievementsRequest>,
    ) -> Result<Response<pb::ListAchievementsResponse>, Status> {
        as_user!(self, request, list_achievements)
    }

    async fn block_user(
        &self,
        request: Request<pb::BlockUserRequest>,
    ) -> Result<Response<pb::BlockUserResponse>, Status> {
        as_user!(self, request, block)
    }

    async fn unblock_user(
        &self,
        request: Request<pb::UnblockUserRequest>,
    ) -> Result<Response<pb::UnblockUserResponse>, Status> {
        as_user!(self, request, unblock)
    }

    async fn list_blocked_users(
        &self,
        request: Request<pb::ListBlockedUsersRequest>,
    ) -> Result<Response<pb::ListBlockedUsersResponse>, Status> {
        as_user!(self, request, list_blocked)
    }

    async fn get_relationships(
        &self,
        request: Request<pb::GetRelationshipsRequest>,
    ) -> Result<Response<pb::GetRelationshipsResponse>, Status> {
        as_user!(self, request, get_relationships)
    }

    async fn batch_get_users(
        &self,
        request: Request<pb::BatchGetUsersRequest>,
    ) -> Result<Response<pb::BatchGetUsersResponse>, Status> {
        as_service!(self, request, batch_get_users)
    }

    async fn batch_get_time_zones(
        &self,
        request: Request<pb::BatchGetTimeZonesRequest>,
    ) -> Result<Response<pb::BatchGetTimeZonesResponse>, Status> {
        as_service!(self, request, batch_get_time_zones)
    }

    async fn batch_get_relationships(
        &self,
        request: Request<pb::BatchGetRelationshipsRequest>,
    ) -> Result<Response<pb::BatchGetRelationshipsResponse>, Status> {
        as_service!(self, request, batch_get_relationships)
    }

    type ListFollowerIdsStream = FollowerIdStream;

    async fn list_follower_ids(
        &self,
        request: Request<pb::ListFollowerIdsRequest>,
    ) -> Result<Response<Self::ListFollowerIdsStream>, Status> {
        Principal::service(&request).map_err(status)?;
        let (user, mut after, chunk) = self
            .svc
            .follower_ids_start(request.get_ref())
            .await
            .map_err(status)?;
        let svc = self.svc.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            loop {
                let ids = match svc.follower_ids_chunk(user, after, chunk).await {
                    Ok(ids) => ids,
                    Err(err) => {
                        let _ = tx.send(Err(status(err))).await;
                        return;
                    }
                };
                let done = (ids.len() as i64) < chunk;
                after = ids.last().copied();
                if !ids.is_empty() {
                    let message = pb::ListFollowerIdsResponse {
                        follower_ids: ids.iter().map(ToString::to_string).collect(),
                    };
                    if tx.send(Ok(message)).await.is_err() {
                        return; // the caller went away
                    }
                }
                if done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}
