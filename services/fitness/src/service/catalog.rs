//! Categories and the exercise catalog: submission by trainers, review by admins, search.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn list_categories(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListCategoriesRequest,
    ) -> Result<pb::ListCategoriesResponse, ApiError> {
        Err(super::not_built("ListCategories"))
    }

    pub async fn create_exercise(
        &self,
        _caller: &UserPrincipal,
        _req: pb::CreateExerciseRequest,
    ) -> Result<pb::CreateExerciseResponse, ApiError> {
        Err(super::not_built("CreateExercise"))
    }

    pub async fn list_exercises(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListExercisesRequest,
    ) -> Result<pb::ListExercisesResponse, ApiError> {
        Err(super::not_built("ListExercises"))
    }

    pub async fn get_exercise(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetExerciseRequest,
    ) -> Result<pb::GetExerciseResponse, ApiError> {
        Err(super::not_built("GetExercise"))
    }

    pub async fn update_exercise(
        &self,
        _caller: &UserPrincipal,
        _req: pb::UpdateExerciseRequest,
    ) -> Result<pb::UpdateExerciseResponse, ApiError> {
        Err(super::not_built("UpdateExercise"))
    }

    pub async fn delete_exercise(
        &self,
        _caller: &UserPrincipal,
        _req: pb::DeleteExerciseRequest,
    ) -> Result<pb::DeleteExerciseResponse, ApiError> {
        Err(super::not_built("DeleteExercise"))
    }

    pub async fn review_exercise(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ReviewExerciseRequest,
    ) -> Result<pb::ReviewExerciseResponse, ApiError> {
        Err(super::not_built("ReviewExercise"))
    }
}
