//! Workouts: blocks of exercise entries with per-set prescriptions, visibility, premium gating.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn create_workout(
        &self,
        _caller: &UserPrincipal,
        _req: pb::CreateWorkoutRequest,
    ) -> Result<pb::CreateWorkoutResponse, ApiError> {
        Err(super::not_built("CreateWorkout"))
    }

    pub async fn list_workouts(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListWorkoutsRequest,
    ) -> Result<pb::ListWorkoutsResponse, ApiError> {
        Err(super::not_built("ListWorkouts"))
    }

    pub async fn get_workout(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetWorkoutRequest,
    ) -> Result<pb::GetWorkoutResponse, ApiError> {
        Err(super::not_built("GetWorkout"))
    }

    pub async fn update_workout(
        &self,
        _caller: &UserPrincipal,
        _req: pb::UpdateWorkoutRequest,
    ) -> Result<pb::UpdateWorkoutResponse, ApiError> {
        Err(super::not_built("UpdateWorkout"))
    }

    pub async fn delete_workout(
        &self,
        _caller: &UserPrincipal,
        _req: pb::DeleteWorkoutRequest,
    ) -> Result<pb::DeleteWorkoutResponse, ApiError> {
        Err(super::not_built("DeleteWorkout"))
    }
}

impl FitnessService {
    /// A workout as `caller` may see it, for the other resources (programs, sessions,
    /// logs, challenges): NOT_FOUND when unknown, deleted, or PRIVATE and the caller is
    /// neither its creator nor an admin. `creator.user_id` and `visibility` are always
    /// set; with `detail` the exercises come with a normalised `set_plan` (filled from
    /// the flat fields when the entry had none). Premium is NOT enforced here: callers
    /// check `visibility == Premium` with `require_premium`.
    pub(crate) async fn workout_for(
        &self,
        _caller: &UserPrincipal,
        _workout_id: uuid::Uuid,
        _detail: bool,
    ) -> Result<pb::Workout, ApiError> {
        Err(super::not_built("workout_for"))
    }
}
