//! Who may call each AnalyticsService method. Every method is listed; the auth layer
//! refuses anything missing. Ownership (own activity, own posts, own insights) is checked
//! in the use-cases.

use tribe_kit::auth::Policy::*;
use tribe_kit::auth::{MethodPolicies, Surface};

/// Who may call each method, the edge's routing facts and the error domain: the one
/// place they are declared (the auth layer, the mesh's Envoy config and the error
/// conversion all read this).
pub const SURFACE: Surface = Surface {
    name: SERVICE_NAME,
    service: SERVICE,
    error_domain: ERROR_DOMAIN,
    methods: &[
        ("GetUserAnalytics", AnyUser),
        ("GetContentAnalytics", AnyUser),
        ("GetCreatorInsights", Trainer),
        ("GetPlatformMetrics", Admin),
        ("TrackEvents", AnyUser),
        // Dashboards and other services both read the lag; the edge routes it, where only
        // admins pass.
        ("GetConsumerStatus", AdminOrInternal),
    ],
    streaming: &[],
};

/// The service's short name: its database, consumer group and key prefix ("svc.analytics.").
pub const SERVICE_NAME: &str = "analytics";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.analytics.v1.AnalyticsService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "analytics.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}
