//! Who may call each AnalyticsService method. Every method is listed; the auth layer
//! refuses anything missing. Ownership (own activity, own posts, own insights) is checked
//! in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.analytics.v1.AnalyticsService";

/// Methods the Envoy edge serves without a token: none.
pub const ANONYMOUS: &[&str] = &[];
/// Methods for other services only: none (GetConsumerStatus is also for admins, so the
/// edge routes it and the service checks the caller).
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
            // "Admin or internal" has no single kit policy: the layer still verifies any
            // token it is given (and the edge demands one), and `status::authorize` then
            // admits only admins and service credentials; anonymous is UNAUTHENTICATED.
            ("GetConsumerStatus", Public),
        ],
    )
}
