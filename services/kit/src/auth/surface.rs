//! A service's public face, declared once in its `policy.rs`: its names, the policy of
//! every method, and which methods stream. The auth layer's table, the edge's routes
//! (anonymous, internal, streaming) and the error domain are all read from here, so the
//! mesh never restates a method list.

use super::{MethodPolicies, Policy};

#[derive(Debug, Clone, Copy)]
pub struct Surface {
    /// The short name: database `tribe_<name>`, key prefix `svc.<name>.`, Envoy cluster.
    pub name: &'static str,
    /// The gRPC service ("trainertribe.user.v1.UserService").
    pub service: &'static str,
    /// `ErrorInfo.domain` of every error the service returns ("user.trainertribe.dev").
    pub error_domain: &'static str,
    /// Every method with who may call it; a method missing here is refused.
    pub methods: &'static [(&'static str, Policy)],
    /// Server-streaming methods (the edge gives them no route timeout).
    pub streaming: &'static [&'static str],
}

impl Surface {
    /// The auth layer's table for this service.
    pub fn policies(&self) -> MethodPolicies {
        MethodPolicies::new().service(self.service, self.methods)
    }

    /// Methods the edge serves without a token (`Public`).
    pub fn anonymous(&self) -> Vec<&'static str> {
        self.with_policy(|p| p == Policy::Public)
    }

    /// Methods for other services only (`Internal`): the edge never routes them.
    pub fn internal(&self) -> Vec<&'static str> {
        self.with_policy(|p| p == Policy::Internal)
    }

    /// Full paths ("/trainertribe.user.v1.UserService/Login") of every method.
    pub fn paths(&self) -> Vec<String> {
        self.methods
            .iter()
            .map(|(m, _)| format!("/{}/{m}", self.service))
            .collect()
    }

    fn with_policy(&self, keep: impl Fn(Policy) -> bool) -> Vec<&'static str> {
        self.methods
            .iter()
            .filter(|(_, p)| keep(*p))
            .map(|(m, _)| *m)
            .collect()
    }
}
