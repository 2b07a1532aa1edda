//! Routes: per upstream, internal methods refused first, then the Login/Register route
//! with its stricter bucket, streaming methods without a timeout, and the service prefix.
//! There is no catch-all, so any other path is a 404 (UNIMPLEMENTED for gRPC clients).

use serde_json::{Value, json};

use super::filters::{
    AUTH_RATELIMIT_FILTER, CORS_FILTER, cors_policy, local_ratelimit, per_minute_bucket,
};
use super::{AUTH_RATE_LIMITED_METHODS, EnvoyParams, Upstream};

/// Upper bound for unary calls; services time out first (10s by default) so clients get
/// the service's own DEADLINE_EXCEEDED.
const UNARY_TIMEOUT: &str = "15s";
/// Longest silence on a server stream before Envoy closes it.
const STREAM_IDLE_TIMEOUT: &str = "3600s";
/// Body of every 404 the edge answers itself; gRPC clients see it as the grpc-message of
/// UNIMPLEMENTED.
pub(super) const NOT_ROUTED: &str = "no such method at this endpoint";

pub(super) fn route_config(params: &EnvoyParams) -> Value {
    let routes: Vec<Value> = params
        .upstreams
        .iter()
        .flat_map(|u| upstream_routes(params, u))
        .collect();
    json!({
        "name": "edge",
        "virtual_hosts": [{
            "name": "trainertribe",
            "domains": ["*"],
            "typed_per_filter_config": { CORS_FILTER: cors_policy(params) },
            "routes": routes,
        }],
    })
}

fn upstream_routes(params: &EnvoyParams, upstream: &Upstream) -> Vec<Value> {
    let service = &upstream.service;
    let cluster = &upstream.cluster;
    let is_internal = |m: &String| upstream.internal_methods.contains(m);
    let mut routes = Vec::new();

    for method in &upstream.internal_methods {
        routes.push(json!({
            "name": format!("{cluster}.internal.{method}"),
            "match": { "path": format!("/{service}/{method}") },
            // With a body, the gRPC-Web filter turns the 404 into grpc-status 12.
            "direct_response": { "status": 404, "body": { "inline_string": NOT_ROUTED } },
        }));
    }

    let limited: Vec<&str> = upstream
        .anonymous_methods
        .iter()
        .filter(|m| AUTH_RATE_LIMITED_METHODS.contains(&m.as_str()) && !is_internal(m))
        .map(String::as_str)
        .collect();
    if !limited.is_empty() {
        // One route for all of them, so they share one bucket.
        let regex = format!("^/{}/({})$", regex_escape(service), limited.join("|"));
        routes.push(json!({
            "name": format!("{cluster}.auth"),
            "match": { "safe_regex": { "regex": regex } },
            "route": route_action(cluster, false),
            "typed_per_filter_config": {
                AUTH_RATELIMIT_FILTER: local_ratelimit("edge_ratelimit_auth", Some(per_minute_bucket(params.auth_rpm))),
            },
        }));
    }

    for method in upstream
        .streaming_methods
        .iter()
        .filter(|m| !is_internal(m))
    {
        routes.push(json!({
            "name": format!("{cluster}.stream.{method}"),
            "match": { "path": format!("/{service}/{method}") },
            "route": route_action(cluster, true),
        }));
    }

    routes.push(json!({
        "name": cluster,
        "match": { "prefix": format!("/{service}/") },
        "route": route_action(cluster, false),
    }));
    routes
}

fn route_action(cluster: &str, streaming: bool) -> Value {
    let mut action = json!({
        "cluster": cluster,
        "timeout": if streaming { "0s" } else { UNARY_TIMEOUT },
        // Honour the client's grpc-timeout, capped for unary calls.
        "max_stream_duration": { "grpc_timeout_header_max": if streaming { "0s" } else { UNARY_TIMEOUT } },
        // Only failures where the service cannot have seen the call are retried.
        "retry_policy": { "retry_on": "connect-failure,refused-stream", "num_retries": 2 },
    });
    if let (true, Some(map)) = (streaming, action.as_object_mut()) {
        map.insert("idle_timeout".into(), json!(STREAM_IDLE_TIMEOUT));
    }
    action
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                vec![c]
            } else {
                vec!['\\', c]
            }
        })
        .collect()
}
