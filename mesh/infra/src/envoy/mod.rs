//! The Envoy edge: what it routes (`EnvoyParams`), the bootstrap it runs with (`render`)
//! and a supervised Envoy process (`EnvoyProcess`).

mod filters;
mod process;
mod render;
mod routes;

use std::net::SocketAddr;
use std::path::PathBuf;

use tribe_kit::auth::Surface;

pub use process::EnvoyProcess;
pub use render::render;

/// One upstream gRPC service behind the edge: every method of `service` is routed to
/// `cluster` unless it is internal.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Cluster name, e.g. "user".
    pub cluster: String,
    /// Fully qualified proto service, e.g. "trainertribe.user.v1.UserService"; also the
    /// name the active gRPC health check asks about.
    pub service: String,
    pub addr: SocketAddr,
    /// Methods callable without a JWT at the edge (e.g. Register, Login, RefreshToken).
    pub anonymous_methods: Vec<String>,
    /// Methods that are never routed (service credential only); answered 404 /
    /// UNIMPLEMENTED like any unknown path.
    pub internal_methods: Vec<String>,
    /// Server-streaming methods, exempt from the route timeout.
    pub streaming_methods: Vec<String>,
}

impl Upstream {
    /// The upstream for a service as its `policy::SURFACE` declares it, served at `addr`:
    /// the only way the mesh and the tests learn which methods are anonymous, internal or
    /// streaming.
    pub fn for_surface(surface: &Surface, addr: SocketAddr) -> Self {
        let owned = |methods: Vec<&str>| methods.into_iter().map(str::to_string).collect();
        Self {
            cluster: surface.name.to_string(),
            service: surface.service.to_string(),
            addr,
            anonymous_methods: owned(surface.anonymous()),
            internal_methods: owned(surface.internal()),
            streaming_methods: owned(surface.streaming.to_vec()),
        }
    }
}

/// Everything the edge configuration depends on.
#[derive(Debug, Clone)]
pub struct EnvoyParams {
    /// The public listener (gRPC and gRPC-Web), e.g. 127.0.0.1:8080.
    pub listen: SocketAddr,
    /// The admin interface, e.g. 127.0.0.1:9901; keep it on loopback.
    pub admin: SocketAddr,
    /// JWKS file holding the public keys of the user-token issuer.
    pub jwks_path: PathBuf,
    pub issuer: String,
    pub audience: String,
    /// Exact browser origins allowed by CORS, e.g. "http://localhost:3000".
    pub cors_origins: Vec<String>,
    /// Global token bucket: requests per second over the whole edge.
    pub global_rps: u32,
    /// Stricter bucket shared by Login and Register: requests per minute.
    pub auth_rpm: u32,
    pub upstreams: Vec<Upstream>,
}

impl EnvoyParams {
    /// The local defaults (issuer, audience, a localhost dev origin, 2000 rps, 60 auth
    /// calls per minute) for the given addresses, key file and upstreams.
    pub fn new(
        listen: SocketAddr,
        admin: SocketAddr,
        jwks_path: PathBuf,
        upstreams: Vec<Upstream>,
    ) -> Self {
        Self {
            listen,
            admin,
            jwks_path,
            issuer: tribe_kit::config::DEFAULT_ISSUER.to_string(),
            audience: tribe_kit::config::DEFAULT_AUDIENCE.to_string(),
            cors_origins: vec!["http://localhost:3000".to_string()],
            global_rps: 2000,
            auth_rpm: 60,
            upstreams,
        }
    }
}

/// Methods that share the stricter sign-in / sign-up bucket, when an upstream allows
/// them anonymously.
pub const AUTH_RATE_LIMITED_METHODS: [&str; 2] = ["Login", "Register"];

/// The edge's own liveness path, answered by Envoy itself.
pub const HEALTH_PATH: &str = "/healthz";

/// The envoy binary: `$TRIBE_ENVOY_BIN`, else `$TRIBE_TOOLS_DIR/venv/bin/envoy`, else
/// `<workspace>/.tools/venv/bin/envoy` (where `mesh/setup.sh` installs it).
pub fn envoy_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRIBE_ENVOY_BIN").filter(|v| !v.is_empty()) {
        return PathBuf::from(bin);
    }
    if let Some(tools) = std::env::var_os("TRIBE_TOOLS_DIR").filter(|v| !v.is_empty()) {
        return PathBuf::from(tools).join("venv/bin/envoy");
    }
    crate::workspace_root().join(".tools/venv/bin/envoy")
}
