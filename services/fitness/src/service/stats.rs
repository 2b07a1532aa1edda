//! Statistics: streaks in the user's time zone, weekly series, muscle volume, records, history.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn get_progress_stats(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetProgressStatsRequest,
    ) -> Result<pb::GetProgressStatsResponse, ApiError> {
        Err(super::not_built("GetProgressStats"))
    }

    pub async fn get_exercise_history(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetExerciseHistoryRequest,
    ) -> Result<pb::GetExerciseHistoryResponse, ApiError> {
        Err(super::not_built("GetExerciseHistory"))
    }
}
