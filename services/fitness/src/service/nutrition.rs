//! Nutrition: recipes, meal plans and guides with macros computed from the food table.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn create_nutrition(
        &self,
        _caller: &UserPrincipal,
        _req: pb::CreateNutritionRequest,
    ) -> Result<pb::CreateNutritionResponse, ApiError> {
        Err(super::not_built("CreateNutrition"))
    }

    pub async fn list_nutrition(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListNutritionRequest,
    ) -> Result<pb::ListNutritionResponse, ApiError> {
        Err(super::not_built("ListNutrition"))
    }

    pub async fn get_nutrition(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetNutritionRequest,
    ) -> Result<pb::GetNutritionResponse, ApiError> {
        Err(super::not_built("GetNutrition"))
    }

    pub async fn list_foods(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListFoodsRequest,
    ) -> Result<pb::ListFoodsResponse, ApiError> {
        Err(super::not_built("ListFoods"))
    }
}
