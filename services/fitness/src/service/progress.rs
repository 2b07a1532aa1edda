//! Progress logs: LogProgress (target vs actual), listing, edits and deletion.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn log_progress(
        &self,
        _caller: &UserPrincipal,
        _req: pb::LogProgressRequest,
    ) -> Result<pb::LogProgressResponse, ApiError> {
        Err(super::not_built("LogProgress"))
    }

    pub async fn list_user_progress(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListUserProgressRequest,
    ) -> Result<pb::ListUserProgressResponse, ApiError> {
        Err(super::not_built("ListUserProgress"))
    }

    pub async fn update_progress_log(
        &self,
        _caller: &UserPrincipal,
        _req: pb::UpdateProgressLogRequest,
    ) -> Result<pb::UpdateProgressLogResponse, ApiError> {
        Err(super::not_built("UpdateProgressLog"))
    }

    pub async fn delete_progress_log(
        &self,
        _caller: &UserPrincipal,
        _req: pb::DeleteProgressLogRequest,
    ) -> Result<pb::DeleteProgressLogResponse, ApiError> {
        Err(super::not_built("DeleteProgressLog"))
    }
}
