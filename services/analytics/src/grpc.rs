//! The generated `AnalyticsService` trait: identify the caller, call the use-case.

use chrono::Utc;
use tonic::{Request, Response, Status};
use tribe_kit::auth::Principal;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::analytics::v1::analytics_service_server::AnalyticsService as Api;

use crate::status::{StatusReader, authorize};
use crate::track::Tracker;
use crate::views::{Views, status};

#[derive(Debug, Clone)]
pub struct AnalyticsApi {
    views: Views,
    tracker: Tracker,
    consumer_status: StatusReader,
}

impl AnalyticsApi {
    pub fn new(views: Views, tracker: Tracker, consumer_status: StatusReader) -> Self {
        Self { views, tracker, consumer_status }
    }
}

#[tonic::async_trait]
impl Api for AnalyticsApi {
    async fn get_user_analytics(
        &self,
        request: Request<pb::GetUserAnalyticsRequest>,
    ) -> Result<Response<pb::GetUserAnalyticsResponse>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        let user_analytics = self.views.user_analytics(&caller, request.into_inner(), Utc::now()).await?;
        Ok(Response::new(pb::GetUserAnalyticsResponse { user_analytics: Some(user_analytics) }))
    }

    async fn get_content_analytics(
        &self,
        request: Request<pb::GetContentAnalyticsRequest>,
    ) -> Result<Response<pb::GetContentAnalyticsResponse>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        let content_analytics = self.views.content_analytics(&caller, request.into_inner(), Utc::now()).await?;
        Ok(Response::new(pb::GetContentAnalyticsResponse { content_analytics: Some(content_analytics) }))
    }

    async fn get_creator_insights(
        &self,
        request: Request<pb::GetCreatorInsightsRequest>,
    ) -> Result<Response<pb::GetCreatorInsightsResponse>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        let creator_insights = self.views.creator_insights(&caller, request.into_inner(), Utc::now()).await?;
        Ok(Response::new(pb::GetCreatorInsightsResponse { creator_insights: Some(creator_insights) }))
    }

    async fn get_platform_metrics(
        &self,
        request: Request<pb::GetPlatformMetricsRequest>,
    ) -> Result<Response<pb::GetPlatformMetricsResponse>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        if !caller.is_admin() {
            return Err(status(tribe_kit::ApiError::permission_denied("platform metrics are for admins")));
        }
        let platform_metrics = self.views.platform_metrics(request.into_inner(), Utc::now()).await?;
        Ok(Response::new(pb::GetPlatformMetricsResponse { platform_metrics: Some(platform_metrics) }))
    }

    async fn track_events(&self, request: Request<pb::TrackEventsRequest>) -> Result<Response<pb::TrackEventsResponse>, Status> {
        let caller = Principal::user(&request).map_err(status)?;
        self.tracker.track(&caller, request.into_inner(), Utc::now()).await.map(Response::new)
    }

    async fn get_consumer_status(
        &self,
        request: Request<pb::GetConsumerStatusRequest>,
    ) -> Result<Response<pb::GetConsumerStatusResponse>, Status> {
        authorize(&Principal::of(&request).map_err(status)?)?;
        let consumer_status = self.consumer_status.status(request.into_inner()).await?;
        Ok(Response::new(pb::GetConsumerStatusResponse { consumer_status: Some(consumer_status) }))
    }
}
