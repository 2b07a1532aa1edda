//! The generated `PaymentService` trait: identify the caller, call the use-case, map errors.

use tonic::{Request, Response, Status};
use tribe_kit::ApiError;
use tribe_kit::as_user;
use tribe_kit::auth::Principal;
use tribe_proto::payment::v1 as pb;
use tribe_proto::payment::v1::payment_service_server::PaymentService as Api;

use crate::policy::ERROR_DOMAIN;
use crate::service::PaymentService;

/// The one place a use-case's error becomes a `Status` (a declined charge included: it
/// is an ordinary FAILED_PRECONDITION with its ErrorInfo metadata).
fn status(err: ApiError) -> Status {
    err.into_status(ERROR_DOMAIN)
}

#[derive(Debug, Clone)]
pub struct PaymentApi {
    svc: PaymentService,
}

impl PaymentApi {
    pub fn new(svc: PaymentService) -> Self {
        Self { svc }
    }
}

#[tonic::async_trait]
impl Api for PaymentApi {
    async fn list_plans(
        &self,
        request: Request<pb::ListPlansRequest>,
    ) -> Result<Response<pb::ListPlansResponse>, Status> {
        let caller = Principal::of(&request).unwrap_or(Principal::Anonymous);
        self.svc
            .list_plans(&caller, request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn get_plan(
        &self,
        request: Request<pb::GetPlanRequest>,
    ) -> Result<Response<pb::GetPlanResponse>, Status> {
        self.svc
            .get_plan(request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn create_plan(
        &self,
        request: Request<pb::CreatePlanRequest>,
    ) -> Result<Response<pb::CreatePlanResponse>, Status> {
        as_user!(self, request, create_plan)
    }

    async fn update_plan(
        &self,
        request: Request<pb::UpdatePlanRequest>,
    ) -> Result<Response<pb::UpdatePlanResponse>, Status> {
        Principal::user(&request).map_err(status)?;
        self.svc
            .update_plan(request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }

    async fn create_subscription(
        &self,
        request: Request<pb::CreateSubscriptionRequest>,
    ) -> Result<Response<pb::CreateSubscriptionResponse>, Status> {
        as_user!(self, request, create_subscription)
    }

    async fn get_subscription(
        &self,
        request: Request<pb::GetSubscriptionRequest>,
    ) -> Result<Response<pb::GetSubscriptionResponse>, Status> {
        as_user!(self, request, get_subscription)
    }

    async fn update_subscription(
        &self,
        request: Request<pb::UpdateSubscriptionRequest>,
    ) -> Result<Response<pb::UpdateSubscriptionResponse>, Status> {
        as_user!(self, request, update_subscription)
    }

    async fn cancel_subscription(
        &self,
        request: Request<pb::CancelSubscriptionRequest>,
    ) -> Result<Response<pb::CancelSubscriptionResponse>, Status> {
        as_user!(self, request, cancel_subscription)
    }

    async fn resume_subscription(
        &self,
        request: Request<pb::ResumeSubscriptionRequest>,
    ) -> Result<Response<pb::ResumeSubscriptionResponse>, Status> {
        as_user!(self, request, resume_subscription)
    }

    async fn list_payment_methods(
        &self,
        request: Request<pb::ListPaymentMethodsRequest>,
    ) -> Result<Response<pb::ListPaymentMethodsResponse>, Status> {
        as_user!(self, request, list_payment_methods)
    }

    async fn add_payment_method(
        &self,
        request: Request<pb::AddPaymentMethodRequest>,
    ) -> Result<Response<pb::AddPaymentMethodResponse>, Status> {
        as_user!(self, request, add_payment_method)
    }

    async fn set_default_payment_method(
        &self,
        request: Request<pb::SetDefaultPaymentMethodRequest>,
    ) -> Result<Response<pb::SetDefaultPaymentMethodResponse>, Status> {
        as_user!(self, request, set_default_payment_method)
    }

    async fn remove_payment_method(
        &self,
        request: Request<pb::RemovePaymentMethodRequest>,
    ) -> Result<Response<pb::RemovePaymentMethodResponse>, Status> {
        as_user!(self, request, remove_payment_method)
    }

    async fn list_transactions(
        &self,
        request: Request<pb::ListTransactionsRequest>,
    ) -> Result<Response<pb::ListTransactionsResponse>, Status> {
        as_user!(self, request, list_transactions)
    }

    async fn get_transaction(
        &self,
        request: Request<pb::GetTransactionRequest>,
    ) -> Result<Response<pb::GetTransactionResponse>, Status> {
        as_user!(self, request, get_transaction)
    }

    async fn refund_transaction(
        &self,
        request: Request<pb::RefundTransactionRequest>,
    ) -> Result<Response<pb::RefundTransactionResponse>, Status> {
        as_user!(self, request, refund_transaction)
    }

    async fn get_entitlement(
        &self,
        request: Request<pb::GetEntitlementRequest>,
    ) -> Result<Response<pb::GetEntitlementResponse>, Status> {
        Principal::service(&request).map_err(status)?;
        self.svc
            .get_entitlement(request.into_inner())
            .await
            .map(Response::new)
            .map_err(status)
    }
}
