//! The generated `AnalyticsService` trait: identify the caller, call the use-case, map
//! errors. The only place an `ApiError` becomes a `Status`.

use chrono::Utc;
use tonic::{Request, Response, Status};
use tribe_kit::ApiError;
use tribe_kit::auth::Principal;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::analytics::v1::analytics_service_server::AnalyticsService as Api;

use crate::policy::ERROR_DOMAIN;
use crate::service::AnalyticsService;

fn status(err: ApiError) -> Status {
    err.into_status(ERROR_DOMAIN)
}

/// Runs a use-case for the calling user at the current time.
macro_rules! as_user {
    ($self:ident, $request:ident, $method:ident) => {{
        let caller = Principal::user(&$request).map_err(status)?;
        $self
            .svc
            .$method(&caller, $request.into_inner(), Utc::now())
            .await
            .map_err(status)?
    }};
}

#[derive(Debug, Clone)]
pub struct AnalyticsApi {
    svc: AnalyticsService,
}

impl AnalyticsApi {
    pub fn new(svc: AnalyticsService) -> Self {
        Self { svc }
    }
}

#[tonic::async_trait]
impl Api for AnalyticsApi {
    async fn get_user_analytics(
        &self,
        request: Request<pb::GetUserAnalyticsRequest>,
    ) -> Result<Response<pb::GetUserAnalyticsResponse>, Status> {
        let user_analytics = as_user!(self, request, user_analytics);
        Ok(Response::new(pb::GetUserAnalyticsResponse {
            user_analytics: Some(user_analytics),
        }))
    }

    async fn get_content_analytics(
        &self,
        request: Request<pb::GetContentAnalyticsRequest>,
    ) -> Result<Response<pb::GetContentAnalyticsResponse>, Status> {
        let content_analytics = as_user!(self, request, content_analytics);
        Ok(Response::new(pb::GetContentAnalyticsResponse {
            content_analytics: Some(content_analytics),
        }))
    }

    async fn get_creator_insights(
        &self,
        request: Request<pb::GetCreatorInsightsRequest>,
    ) -> Result<Response<pb::GetCreatorInsightsResponse>, Status> {
        let creator_insights = as_user!(self, request, creator_insights);
        Ok(Response::new(pb::GetCreatorInsightsResponse {
            creator_insights: Some(creator_insights),
        }))
    }

    /// Admins only: the policy table's `Admin` lets no one else through.
    async fn get_platform_metrics(
        &self,
        request: Request<pb::GetPlatformMetricsRequest>,
    ) -> Result<Response<pb::GetPlatformMetricsResponse>, Status> {
        let platform_metrics = self
            .svc
            .platform_metrics(request.into_inner(), Utc::now())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::GetPlatformMetricsResponse {
            platform_metrics: Some(platform_metrics),
        }))
    }

    async fn track_events(
        &self,
        request: Request<pb::TrackEventsRequest>,
    ) -> Result<Response<pb::TrackEventsResponse>, Status> {
        Ok(Response::new(as_user!(self, request, track_events)))
    }

    /// Admins and service credentials: the policy table's `AdminOrInternal`.
    async fn get_consumer_status(
        &self,
        request: Request<pb::GetConsumerStatusRequest>,
    ) -> Result<Response<pb::GetConsumerStatusResponse>, Status> {
        let consumer_status = self
            .svc
            .consumer_status(request.into_inner())
            .await
            .map_err(status)?;
        Ok(Response::new(pb::GetConsumerStatusResponse {
            consumer_status: Some(consumer_status),
        }))
    }
}
