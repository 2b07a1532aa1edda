//! End to end through the real Envoy edge: a view over gRPC-Web with the JWT checked at
//! the edge and again in the service.

use crate::common::*;
use chrono::Utc;
use tribe_analytics::policy;
use tribe_infra::envoy::Upstream;
use tribe_proto::analytics::v1 as pb;
use tribe_proto::events::v1::{self as ev, event::Payload};
use tribe_testkit::{TestEdge, grpc_web};

const UNAUTHENTICATED: i32 = 16;
const PERMISSION_DENIED: i32 = 7;

fn path(method: &str) -> String {
    format!("/{}/{method}", policy::SERVICE)
}

#[tokio::test]
async fn user_analytics_over_grpc_web_through_envoy() {
    let env = start().await;
    let me = id();
    let now = Utc::now();
    let message = Payload::MessageSent(ev::MessageSent {
        conversation_id: id(),
        message_id: id(),
        sender_id: me.clone(),
        ..Default::default()
    });
    env.producer
        .emit("tribe.messaging.v1", &me, &me, now, message)
        .await;
    wait_processed(&env.db.pool, 1).await;

    let upstream = Upstream::for_surface(&policy::SURFACE, env.server.addr);
    let edge = TestEdge::start(upstream, &env.keys.jwks_path())
        .await
        .expect("start envoy");
    let url = edge.url();
    let token = env.keys.access_token(&me, &["user"]);
    let request = pb::GetUserAnalyticsRequest {
        user_id: me.clone(),
        time_range: range(now - chrono::Duration::hours(2), now),
        granularity: HOUR,
    };

    // Wait for the edge's health check to mark the upstream healthy.
    let response: pb::GetUserAnalyticsResponse = edge
        .first_answer(&path("GetUserAnalytics"), &request, Some(&token))
        .await
        .expect("user analytics through the edge");
    let analytics = response.user_analytics.unwrap();
    assert_eq!(analytics.totals.unwrap().messages_sent, 1);
    assert_eq!(analytics.buckets.len(), 3);

    // No token: refused at the edge. Someone else's activity: refused by the service.
    let anonymous = grpc_web::call::<_, pb::GetUserAnalyticsResponse>(
        &url,
        &path("GetUserAnalytics"),
        &request,
        None,
    )
    .await
    .unwrap();
    assert_eq!(anonymous.unwrap_err().0, UNAUTHENTICATED);
    let stranger = env.keys.access_token(&id(), &["user"]);
    let denied = grpc_web::call::<_, pb::GetUserAnalyticsResponse>(
        &url,
        &path("GetUserAnalytics"),
        &request,
        Some(&stranger),
    )
    .await
    .unwrap();
    assert_eq!(denied.unwrap_err().0, PERMISSION_DENIED);
}
