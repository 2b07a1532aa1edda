//! Who may call each PaymentService method. Every method is listed; the auth layer
//! refuses anything missing. Ownership (another user's subscription, methods and
//! transactions are NOT_FOUND) is checked in the use-cases.

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
        // Public pricing page; include_inactive is checked for admin in the use-case.
        ("ListPlans", Public),
        ("GetPlan", Public),
        ("CreatePlan", Admin),
        ("UpdatePlan", Admin),
        ("CreateSubscription", AnyUser),
        ("GetSubscription", AnyUser),
        ("UpdateSubscription", AnyUser),
        ("CancelSubscription", AnyUser),
        ("ResumeSubscription", AnyUser),
        ("ListPaymentMethods", AnyUser),
        ("AddPaymentMethod", AnyUser),
        ("SetDefaultPaymentMethod", AnyUser),
        ("RemovePaymentMethod", AnyUser),
        ("ListTransactions", AnyUser),
        ("GetTransaction", AnyUser),
        ("RefundTransaction", Admin),
        ("GetEntitlement", Internal),
    ],
    streaming: &[],
};

/// The service's short name: its database, topic and key prefixes ("svc.payment.").
pub const SERVICE_NAME: &str = "payment";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.payment.v1.PaymentService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "payment.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}
