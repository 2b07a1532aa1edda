//! Trainer-client relationships: invitation, acceptance, ending.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn invite_client(
        &self,
        _caller: &UserPrincipal,
        _req: pb::InviteClientRequest,
    ) -> Result<pb::InviteClientResponse, ApiError> {
        Err(super::not_built("InviteClient"))
    }

    pub async fn accept_coaching(
        &self,
        _caller: &UserPrincipal,
        _req: pb::AcceptCoachingRequest,
    ) -> Result<pb::AcceptCoachingResponse, ApiError> {
        Err(super::not_built("AcceptCoaching"))
    }

    pub async fn end_coaching(
        &self,
        _caller: &UserPrincipal,
        _req: pb::EndCoachingRequest,
    ) -> Result<pb::EndCoachingResponse, ApiError> {
        Err(super::not_built("EndCoaching"))
    }

    pub async fn list_coachings(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListCoachingsRequest,
    ) -> Result<pb::ListCoachingsResponse, ApiError> {
        Err(super::not_built("ListCoachings"))
    }
}
