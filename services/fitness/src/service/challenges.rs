//! Challenges: creation, joining, leaderboards, completion.

use tribe_kit::ApiError;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;

impl FitnessService {
    pub async fn create_challenge(
        &self,
        _caller: &UserPrincipal,
        _req: pb::CreateChallengeRequest,
    ) -> Result<pb::CreateChallengeResponse, ApiError> {
        Err(super::not_built("CreateChallenge"))
    }

    pub async fn list_challenges(
        &self,
        _caller: &UserPrincipal,
        _req: pb::ListChallengesRequest,
    ) -> Result<pb::ListChallengesResponse, ApiError> {
        Err(super::not_built("ListChallenges"))
    }

    pub async fn get_challenge(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetChallengeRequest,
    ) -> Result<pb::GetChallengeResponse, ApiError> {
        Err(super::not_built("GetChallenge"))
    }

    pub async fn join_challenge(
        &self,
        _caller: &UserPrincipal,
        _req: pb::JoinChallengeRequest,
    ) -> Result<pb::JoinChallengeResponse, ApiError> {
        Err(super::not_built("JoinChallenge"))
    }

    pub async fn leave_challenge(
        &self,
        _caller: &UserPrincipal,
        _req: pb::LeaveChallengeRequest,
    ) -> Result<pb::LeaveChallengeResponse, ApiError> {
        Err(super::not_built("LeaveChallenge"))
    }

    pub async fn get_challenge_leaderboard(
        &self,
        _caller: &UserPrincipal,
        _req: pb::GetChallengeLeaderboardRequest,
    ) -> Result<pb::GetChallengeLeaderboardResponse, ApiError> {
        Err(super::not_built("GetChallengeLeaderboard"))
    }
}

/// Finalises challenges that ended (ChallengeFinished per participant) every
/// `interval` until `stop` resolves.
pub async fn finalise_ended(
    _svc: FitnessService,
    _interval: std::time::Duration,
    stop: futures::future::BoxFuture<'static, ()>,
) {
    stop.await;
}

/// Inside the transaction of a new or edited log of `user` completed at `completed_at`:
/// awards ChallengeCompleted (once per participant, under concurrent logs too) for
/// every challenge of the user whose window contains the time and whose goal the
/// user's score now reaches.
pub(crate) async fn on_session_logged(
    _conn: &mut sqlx::PgConnection,
    _user: uuid::Uuid,
    _completed_at: chrono::DateTime<chrono::Utc>,
) -> Result<(), ApiError> {
    Ok(())
}
