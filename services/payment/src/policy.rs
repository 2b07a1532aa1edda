//! Who may call each PaymentService method. Every method is listed; the auth layer
//! refuses anything missing. Ownership (another user's subscription, methods and
//! transactions are NOT_FOUND) is checked in the use-cases.

use tribe_kit::auth::{MethodPolicies, Policy};

pub const SERVICE: &str = "trainertribe.payment.v1.PaymentService";

/// Methods the Envoy edge serves without a token.
pub const ANONYMOUS: &[&str] = &["ListPlans", "GetPlan"];
/// Methods for other services only; Envoy never routes them.
pub const INTERNAL: &[&str] = &["GetEntitlement"];

pub fn policies() -> MethodPolicies {
    use Policy::*;
    MethodPolicies::new().service(
        SERVICE,
        &[
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
    )
}
