//! The generated `FitnessService` trait: identify the caller, call the use-case, map
//! errors. No logic: every handler is one `as_user!` into `service/<resource>.rs`.

use tonic::{Request, Response, Status};
use tribe_kit::as_user;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::fitness_service_server::FitnessService as Api;

use crate::service::FitnessService;

#[derive(Debug, Clone)]
pub struct FitnessApi {
    svc: FitnessService,
}

impl FitnessApi {
    pub fn new(svc: FitnessService) -> Self {
        Self { svc }
    }
}

#[tonic::async_trait]
impl Api for FitnessApi {
    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        as_user!(self, request, list_categories)
    }

    async fn create_exercise(
        &self,
        request: Request<pb::CreateExerciseRequest>,
    ) -> Result<Response<pb::CreateExerciseResponse>, Status> {
        as_user!(self, request, create_exercise)
    }

    async fn list_exercises(
        &self,
        request: Request<pb::ListExercisesRequest>,
    ) -> Result<Response<pb::ListExercisesResponse>, Status> {
        as_user!(self, request, list_exercises)
    }

    async fn get_exercise(
        &self,
        request: Request<pb::GetExerciseRequest>,
    ) -> Result<Response<pb::GetExerciseResponse>, Status> {
        as_user!(self, request, get_exercise)
    }

    async fn create_workout(
        &self,
        request: Request<pb::CreateWorkoutRequest>,
    ) -> Result<Response<pb::CreateWorkoutResponse>, Status> {
        as_user!(self, request, create_workout)
    }

    async fn list_workouts(
        &self,
        request: Request<pb::ListWorkoutsRequest>,
    ) -> Result<Response<pb::ListWorkoutsResponse>, Status> {
        as_user!(self, request, list_workouts)
    }

    async fn get_workout(
        &self,
        request: Request<pb::GetWorkoutRequest>,
    ) -> Result<Response<pb::GetWorkoutResponse>, Status> {
        as_user!(self, request, get_workout)
    }

    async fn update_workout(
        &self,
        request: Request<pb::UpdateWorkoutRequest>,
    ) -> Result<Response<pb::UpdateWorkoutResponse>, Status> {
        as_user!(self, request, update_workout)
    }

    async fn delete_workout(
        &self,
        request: Request<pb::DeleteWorkoutRequest>,
    ) -> Result<Response<pb::DeleteWorkoutResponse>, Status> {
        as_user!(self, request, delete_workout)
    }

    async fn create_program(
        &self,
        request: Request<pb::CreateProgramRequest>,
    ) -> Result<Response<pb::CreateProgramResponse>, Status> {
        as_user!(self, request, create_program)
    }

    async fn list_programs(
        &self,
        request: Request<pb::ListProgramsRequest>,
    ) -> Result<Response<pb::ListProgramsResponse>, Status> {
        as_user!(self, request, list_programs)
    }

    async fn get_program(
        &self,
        request: Request<pb::GetProgramRequest>,
    ) -> Result<Response<pb::GetProgramResponse>, Status> {
        as_user!(self, request, get_program)
    }

    async fn enroll_in_program(
        &self,
        request: Request<pb::EnrollInProgramRequest>,
    ) -> Result<Response<pb::EnrollInProgramResponse>, Status> {
        as_user!(self, request, enroll_in_program)
    }

    async fn list_my_enrollments(
        &self,
        request: Request<pb::ListMyEnrollmentsRequest>,
    ) -> Result<Response<pb::ListMyEnrollmentsResponse>, Status> {
        as_user!(self, request, list_my_enrollments)
    }

    async fn log_progress(
        &self,
        request: Request<pb::LogProgressRequest>,
    ) -> Result<Response<pb::LogProgressResponse>, Status> {
        as_user!(self, request, log_progress)
    }

    async fn list_user_progress(
        &self,
        request: Request<pb::ListUserProgressRequest>,
    ) -> Result<Response<pb::ListUserProgressResponse>, Status> {
        as_user!(self, request, list_user_progress)
    }

    async fn get_progress_stats(
        &self,
        request: Request<pb::GetProgressStatsRequest>,
    ) -> Result<Response<pb::GetProgressStatsResponse>, Status> {
        as_user!(self, request, get_progress_stats)
    }

    async fn create_nutrition(
        &self,
        request: Request<pb::CreateNutritionRequest>,
    ) -> Result<Response<pb::CreateNutritionResponse>, Status> {
        as_user!(self, request, create_nutrition)
    }

    async fn list_nutrition(
        &self,
        request: Request<pb::ListNutritionRequest>,
    ) -> Result<Response<pb::ListNutritionResponse>, Status> {
        as_user!(self, request, list_nutrition)
    }

    async fn get_nutrition(
        &self,
        request: Request<pb::GetNutritionRequest>,
    ) -> Result<Response<pb::GetNutritionResponse>, Status> {
        as_user!(self, request, get_nutrition)
    }

    async fn create_challenge(
        &self,
        request: Request<pb::CreateChallengeRequest>,
    ) -> Result<Response<pb::CreateChallengeResponse>, Status> {
        as_user!(self, request, create_challenge)
    }

    async fn list_challenges(
        &self,
        request: Request<pb::ListChallengesRequest>,
    ) -> Result<Response<pb::ListChallengesResponse>, Status> {
        as_user!(self, request, list_challenges)
    }

    async fn get_challenge(
        &self,
        request: Request<pb::GetChallengeRequest>,
    ) -> Result<Response<pb::GetChallengeResponse>, Status> {
        as_user!(self, request, get_challenge)
    }

    async fn join_challenge(
        &self,
        request: Request<pb::JoinChallengeRequest>,
    ) -> Result<Response<pb::JoinChallengeResponse>, Status> {
        as_user!(self, request, join_challenge)
    }

    async fn leave_challenge(
        &self,
        request: Request<pb::LeaveChallengeRequest>,
    ) -> Result<Response<pb::LeaveChallengeResponse>, Status> {
        as_user!(self, request, leave_challenge)
    }

    async fn get_challenge_leaderboard(
        &self,
        request: Request<pb::GetChallengeLeaderboardRequest>,
    ) -> Result<Response<pb::GetChallengeLeaderboardResponse>, Status> {
        as_user!(self, request, get_challenge_leaderboard)
    }

    async fn update_exercise(
        &self,
        request: Request<pb::UpdateExerciseRequest>,
    ) -> Result<Response<pb::UpdateExerciseResponse>, Status> {
        as_user!(self, request, update_exercise)
    }

    async fn delete_exercise(
        &self,
        request: Request<pb::DeleteExerciseRequest>,
    ) -> Result<Response<pb::DeleteExerciseResponse>, Status> {
        as_user!(self, request, delete_exercise)
    }

    async fn review_exercise(
        &self,
        request: Request<pb::ReviewExerciseRequest>,
    ) -> Result<Response<pb::ReviewExerciseResponse>, Status> {
        as_user!(self, request, review_exercise)
    }

    async fn list_foods(
        &self,
        request: Request<pb::ListFoodsRequest>,
    ) -> Result<Response<pb::ListFoodsResponse>, Status> {
        as_user!(self, request, list_foods)
    }

    async fn get_todays_session(
        &self,
        request: Request<pb::GetTodaysSessionRequest>,
    ) -> Result<Response<pb::GetTodaysSessionResponse>, Status> {
        as_user!(self, request, get_todays_session)
    }

    async fn pause_enrollment(
        &self,
        request: Request<pb::PauseEnrollmentRequest>,
    ) -> Result<Response<pb::PauseEnrollmentResponse>, Status> {
        as_user!(self, request, pause_enrollment)
    }

    async fn resume_enrollment(
        &self,
        request: Request<pb::ResumeEnrollmentRequest>,
    ) -> Result<Response<pb::ResumeEnrollmentResponse>, Status> {
        as_user!(self, request, resume_enrollment)
    }

    async fn leave_enrollment(
        &self,
        request: Request<pb::LeaveEnrollmentRequest>,
    ) -> Result<Response<pb::LeaveEnrollmentResponse>, Status> {
        as_user!(self, request, leave_enrollment)
    }

    async fn invite_client(
        &self,
        request: Request<pb::InviteClientRequest>,
    ) -> Result<Response<pb::InviteClientResponse>, Status> {
        as_user!(self, request, invite_client)
    }

    async fn accept_coaching(
        &self,
        request: Request<pb::AcceptCoachingRequest>,
    ) -> Result<Response<pb::AcceptCoachingResponse>, Status> {
        as_user!(self, request, accept_coaching)
    }

    async fn end_coaching(
        &self,
        request: Request<pb::EndCoachingRequest>,
    ) -> Result<Response<pb::EndCoachingResponse>, Status> {
        as_user!(self, request, end_coaching)
    }

    async fn list_coachings(
        &self,
        request: Request<pb::ListCoachingsRequest>,
    ) -> Result<Response<pb::ListCoachingsResponse>, Status> {
        as_user!(self, request, list_coachings)
    }

    async fn assign_program(
        &self,
        request: Request<pb::AssignProgramRequest>,
    ) -> Result<Response<pb::AssignProgramResponse>, Status> {
        as_user!(self, request, assign_program)
    }

    async fn update_progress_log(
        &self,
        request: Request<pb::UpdateProgressLogRequest>,
    ) -> Result<Response<pb::UpdateProgressLogResponse>, Status> {
        as_user!(self, request, update_progress_log)
    }

    async fn delete_progress_log(
        &self,
        request: Request<pb::DeleteProgressLogRequest>,
    ) -> Result<Response<pb::DeleteProgressLogResponse>, Status> {
        as_user!(self, request, delete_progress_log)
    }

    async fn get_exercise_history(
        &self,
        request: Request<pb::GetExerciseHistoryRequest>,
    ) -> Result<Response<pb::GetExerciseHistoryResponse>, Status> {
        as_user!(self, request, get_exercise_history)
    }

    async fn log_body_measurement(
        &self,
        request: Request<pb::LogBodyMeasurementRequest>,
    ) -> Result<Response<pb::LogBodyMeasurementResponse>, Status> {
        as_user!(self, request, log_body_measurement)
    }

    async fn list_body_measurements(
        &self,
        request: Request<pb::ListBodyMeasurementsRequest>,
    ) -> Result<Response<pb::ListBodyMeasurementsResponse>, Status> {
        as_user!(self, request, list_body_measurements)
    }

    async fn delete_body_measurement(
        &self,
        request: Request<pb::DeleteBodyMeasurementRequest>,
    ) -> Result<Response<pb::DeleteBodyMeasurementResponse>, Status> {
        as_user!(self, request, delete_body_measurement)
    }
}
