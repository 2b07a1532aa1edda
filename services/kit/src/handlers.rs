//! The two handler shapes of every `grpc.rs`, so no service restates them. Each expands in
//! the service crate: the API struct keeps its use-cases in a field `svc`, and errors are
//! converted with that crate's `crate::policy::ERROR_DOMAIN` (every service declares it).

/// `as_user!(self, request, method)`: the calling user (UNAUTHENTICATED / PERMISSION_DENIED
/// for anyone else), then `self.svc.method(&caller, message)`, its result as the reply.
#[macro_export]
#[allow(clippy::crate_in_macro_def)] // deliberately the calling crate's `policy`
macro_rules! as_user {
    ($self:ident, $request:ident, $method:ident) => {{
        let caller = $crate::auth::Principal::user(&$request)
            .map_err(|err| err.into_status(crate::policy::ERROR_DOMAIN))?;
        $crate::error::reply(
            crate::policy::ERROR_DOMAIN,
            $self.svc.$method(&caller, $request.into_inner()).await,
        )
    }};
}

/// `as_service!(self, request, method)`: an internal method — a service credential
/// (PERMISSION_DENIED otherwise), then `self.svc.method(message)`, its result as the reply.
#[macro_export]
#[allow(clippy::crate_in_macro_def)] // deliberately the calling crate's `policy`
macro_rules! as_service {
    ($self:ident, $request:ident, $method:ident) => {{
        $crate::auth::Principal::service(&$request)
            .map_err(|err| err.into_status(crate::policy::ERROR_DOMAIN))?;
        $crate::error::reply(
            crate::policy::ERROR_DOMAIN,
            $self.svc.$method($request.into_inner()).await,
        )
    }};
}
