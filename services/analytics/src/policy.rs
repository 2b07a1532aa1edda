//! Who may call each AnalyticsService method. Every method is listed; the auth layer
//! refuses anything missing. Ownership (own activity, own posts, own insights) is checked
//! in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.analytics.v1.AnalyticsService";

/// Methods the Envoy edge serves without a token: none.
pub const ANONYMOUS: &[&str] = &[];
/// Methods for other services only: none (GetConsumerStatus is admin-or-internal, so the
/// edge routes it and only admins pass there).
pub const INTERNAL: &[&str] = &[];
/// Server-streaming methods: none.
pub const STREAMING: &[&str] = &[];

pub fn policies() -> MethodPolicies {
    use Policy::*;
    MethodPolicies::new().service(
        SERVICE,
        &[
            ("GetUserAnalytics", AnyUser),
            ("GetContentAnalytics", AnyUser),
            ("GetCreatorInsights", Trainer),
            ("GetPlatformMetrics", Admin),
            ("TrackEvents", AnyUser),
            ("GetConsumerStatus", AdminOrInternal),
        ],
    )
}
