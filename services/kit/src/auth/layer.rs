//! Tower layer that authenticates every call and enforces each method's declared policy.
//! Deny by default: a method without a policy is refused.

use std::collections::HashMap;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use tonic::Status;

use super::{Principal, TokenVerifier};

/// Who may call a method. Ownership ("only your own X") is checked in the service on top
/// of `AnyUser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No token needed (a token, if sent, is still verified and must be valid).
    Public,
    /// Any valid user access token.
    AnyUser,
    /// A user with the trainer role (admins too).
    Trainer,
    /// A user with the support_agent role (admins too).
    SupportAgent,
    /// A user with the admin role.
    Admin,
    /// A service credential; never routed by Envoy.
    Internal,
    /// An admin, or a service credential: operational reads (consumer lag, ...) that
    /// dashboards and other services both need. Routed by Envoy, where only admins pass.
    AdminOrInternal,
}

/// The policy table of one server: full method path -> policy.
#[derive(Debug, Clone, Default)]
pub struct MethodPolicies {
    map: HashMap<String, Policy>,
}

impl MethodPolicies {
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares the policy of `Method` in `service` ("trainertribe.user.v1.UserService").
    pub fn with(mut self, service: &str, method: &str, policy: Policy) -> Self {
        self.map.insert(format!("/{service}/{method}"), policy);
        self
    }

    /// Declares many methods of one service at once.
    pub fn service(mut self, service: &str, methods: &[(&str, Policy)]) -> Self {
        for (method, policy) in methods {
            self.map.insert(format!("/{service}/{method}"), *policy);
        }
        self
    }

    pub fn get(&self, path: &str) -> Option<Policy> {
        if path.starts_with("/grpc.health.v1.Health/")
            || path.starts_with("/grpc.reflection.v1.ServerReflection/")
        {
            return Some(Policy::Public);
        }
        self.map.get(path).copied()
    }

    /// Every declared method path (tests compare this with the descriptor set).
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }
}

/// Applies [`AuthService`] to a server.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    verifier: TokenVerifier,
    policies: Arc<MethodPolicies>,
}

impl AuthLayer {
    pub fn new(verifier: TokenVerifier, policies: MethodPolicies) -> Self {
        Self {
            verifier,
            policies: Arc::new(policies),
        }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
            policies: self.policies.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    verifier: TokenVerifier,
    policies: Arc<MethodPolicies>,
}

impl AuthService<()> {
    /// Decides who is calling and whether the policy admits them.
    fn authorize(
        verifier: &TokenVerifier,
        policies: &MethodPolicies,
        path: &str,
        headers: &http::HeaderMap,
    ) -> Result<Principal, Status> {
        let Some(policy) = policies.get(path) else {
            tracing::warn!(path, "call to a method without a declared policy refused");
            return Err(Status::permission_denied("method not available"));
        };
        let principal = match bearer(headers)? {
            Some(token) => verifier.verify(token).map_err(|err| {
                tracing::info!(path, error = %err, "token refused");
                Status::unauthenticated("invalid or expired access token")
            })?,
            None => Principal::Anonymous,
        };
        let allowed = match (&policy, &principal) {
            (Policy::Public, _) => true,
            (_, Principal::Anonymous) => {
                return Err(Status::unauthenticated("an access token is required"));
            }
            (Policy::Internal, Principal::Service(_)) => true,
            (Policy::Internal, Principal::User(_)) => false,
            (Policy::AdminOrInternal, Principal::Service(_)) => true,
            (Policy::AdminOrInternal, Principal::User(u)) => u.is_admin(),
            (_, Principal::Service(_)) => false,
            (Policy::AnyUser, Principal::User(_)) => true,
            (Policy::Trainer, Principal::User(u)) => {
                u.has_role(super::Role::Trainer) || u.is_admin()
            }
            (Policy::SupportAgent, Principal::User(u)) => {
                u.has_role(super::Role::SupportAgent) || u.is_admin()
            }
            (Policy::Admin, Principal::User(u)) => u.is_admin(),
        };
        if allowed {
            Ok(principal)
        } else {
            Err(Status::permission_denied("caller may not use this method"))
        }
    }
}

/// The bearer token of the `authorization` header, if any. A malformed header is an error
/// rather than anonymous, so a typo never silently downgrades a call.
fn bearer(headers: &http::HeaderMap) -> Result<Option<&str>, Status> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Status::unauthenticated("malformed authorization header"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(Status::unauthenticated(
            "authorization must be a Bearer token",
        )),
    }
}

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for AuthService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        match AuthService::authorize(
            &self.verifier,
            &self.policies,
            request.uri().path(),
            request.headers(),
        ) {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                // Take the service that was driven to readiness, leave a fresh clone behind.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                async move { inner.call(request).await }.boxed()
            }
            Err(status) => futures::future::ready(Ok(status.into_http())).boxed(),
        }
    }
}
