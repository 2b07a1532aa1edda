//! Today's session: the next workout day with loads from the user's history and the rules.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn get_todays_session(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetTodaysSessionRequest,
    ) -> Result<pb::GetTodaysSessionResponse, ApiError> {
        Err(super::not_built("GetTodaysSession"))
    }
}
