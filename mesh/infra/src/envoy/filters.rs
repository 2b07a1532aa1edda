//! The edge's HTTP filter chain, in order: health check, CORS, gRPC-Web, JWT
//! authentication, local rate limits, router.

use serde_json::{Value, json};

use super::{EnvoyParams, HEALTH_PATH};

/// Name of the JWT provider for user access tokens.
pub(super) const JWT_PROVIDER: &str = "tribe_user";
/// Name of the second local_ratelimit filter: disabled on the listener, enabled per
/// route for Login and Register.
pub(super) const AUTH_RATELIMIT_FILTER: &str = "tribe.ratelimit.auth";
pub(super) const CORS_FILTER: &str = "envoy.filters.http.cors";

pub(super) fn http_filters(params: &EnvoyParams) -> Value {
    json!([
        {
            "name": "envoy.filters.http.health_check",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
                "pass_through_mode": false,
                "headers": [{ "name": ":path", "string_match": { "exact": HEALTH_PATH } }],
            },
        },
        {
            "name": CORS_FILTER,
            "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" },
        },
        {
            "name": "envoy.filters.http.grpc_web",
            "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb" },
        },
        {
            "name": "envoy.filters.http.jwt_authn",
            "typed_config": jwt_authn(params),
        },
        {
            "name": "envoy.filters.http.local_ratelimit",
            "typed_config": local_ratelimit("edge_ratelimit_global", Some(global_bucket(params.global_rps))),
        },
        {
            "name": AUTH_RATELIMIT_FILTER,
            // No bucket and not enabled here: only routes that carry a per-route config
            // (Login, Register) are limited by this instance.
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
                "stat_prefix": "edge_ratelimit_auth",
                // The status of a rejection is taken from here, not from the route.
                "rate_limited_as_resource_exhausted": true,
            },
        },
        {
            "name": "envoy.filters.http.router",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
                // Clients need not learn about Envoy's internals.
                "suppress_envoy_headers": true,
            },
        },
    ])
}

/// The CORS policy of the virtual host: exact origins, the headers gRPC-Web clients
/// send, and the gRPC status headers they must be able to read.
pub(super) fn cors_policy(params: &EnvoyParams) -> Value {
    let origins: Vec<Value> = params
        .cors_origins
        .iter()
        .map(|o| json!({ "exact": o }))
        .collect();
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": origins,
        "allow_methods": "POST, OPTIONS",
        "allow_headers": "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout, traceparent, tracestate",
        "expose_headers": "grpc-status, grpc-message, grpc-status-details-bin",
        "max_age": "86400",
        // Tokens travel in the authorization header, never in cookies.
        "allow_credentials": false,
    })
}

fn jwt_authn(params: &EnvoyParams) -> Value {
    let mut rules = vec![json!({ "match": { "path": HEALTH_PATH } })];
    for upstream in &params.upstreams {
        // Anonymous methods need no token. Internal methods are let through here only so
        // that the router refuses them exactly like an unknown path.
        for method in upstream
            .anonymous_methods
            .iter()
            .chain(&upstream.internal_methods)
        {
            rules.push(json!({ "match": { "path": format!("/{}/{method}", upstream.service) } }));
        }
    }
    // Everything else under the API namespace needs a valid user access token.
    rules.push(json!({ "match": { "prefix": "/trainertribe." }, "requires": { "provider_name": JWT_PROVIDER } }));
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
        "providers": {
            JWT_PROVIDER: {
                "issuer": params.issuer,
                "audiences": [params.audience],
                "require_expiration": true,
                "clock_skew_seconds": 30,
                "local_jwks": { "filename": params.jwks_path.display().to_string() },
                // Bearer header only: no query parameters, no cookies.
                "from_headers": [{ "name": "authorization", "value_prefix": "Bearer " }],
                // Services verify the token again (internal calls bypass the edge).
                "forward": true,
            },
        },
        "rules": rules,
        "bypass_cors_preflight": true,
    })
}

fn global_bucket(rps: u32) -> Value {
    let rps = rps.max(1);
    json!({ "max_tokens": rps, "tokens_per_fill": rps, "fill_interval": "1s" })
}

/// A bucket of `rpm` calls per minute, refilled one token at a time so the limit is
/// smooth rather than a burst at the top of each minute.
pub(super) fn per_minute_bucket(rpm: u32) -> Value {
    let rpm = rpm.max(1);
    // Envoy requires fill_interval >= 50ms.
    let interval_ms = (60_000 / u64::from(rpm)).max(50);
    let per_fill = (u64::from(rpm) * interval_ms).div_ceil(60_000).max(1);
    json!({ "max_tokens": rpm, "tokens_per_fill": per_fill, "fill_interval": format!("{}.{:03}s", interval_ms / 1000, interval_ms % 1000) })
}

/// A local_ratelimit config that answers over-limit gRPC calls with RESOURCE_EXHAUSTED.
pub(super) fn local_ratelimit(stat_prefix: &str, bucket: Option<Value>) -> Value {
    let always = |key: &str| json!({ "runtime_key": key, "default_value": { "numerator": 100, "denominator": "HUNDRED" } });
    let mut config = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": stat_prefix,
        "filter_enabled": always(&format!("{stat_prefix}_enabled")),
        "filter_enforced": always(&format!("{stat_prefix}_enforced")),
        // A gRPC client must see RESOURCE_EXHAUSTED, not the UNAVAILABLE that HTTP 429
        // maps to by default (which clients would retry).
        "rate_limited_as_resource_exhausted": true,
    });
    if let (Some(bucket), Some(map)) = (bucket, config.as_object_mut()) {
        map.insert("token_bucket".into(), bucket);
    }
    config
}
