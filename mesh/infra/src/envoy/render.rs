//! The Envoy bootstrap: admin, overload manager, the edge listener and one cluster per
//! upstream. Hardening follows Envoy's "configuring Envoy as an edge proxy" guidance.
//!
//! The document is built as JSON (which Envoy's YAML loader reads as is), so names and
//! paths are always escaped correctly.

use serde_json::{Value, json};

use super::{EnvoyParams, Upstream, filters, routes};

/// Downstream buffers per connection (edge guidance: 32 KiB).
const CONNECTION_BUFFER_BYTES: u32 = 32 * 1024;
/// Connections the public listener accepts at once.
const LISTENER_MAX_CONNECTIONS: u32 = 10_000;
/// Connections across all listeners (overload manager).
const GLOBAL_MAX_CONNECTIONS: u32 = 50_000;
/// Heap the overload manager measures against.
const MAX_HEAP_BYTES: u64 = 1024 * 1024 * 1024;

/// The full bootstrap for `params`.
pub fn render(params: &EnvoyParams) -> String {
    let doc = json!({
        "node": { "id": "tribe-edge", "cluster": "tribe-edge" },
        "admin": { "address": socket(params.admin) },
        "overload_manager": overload_manager(),
        "static_resources": {
            "listeners": [listener(params)],
            "clusters": params.upstreams.iter().map(cluster).collect::<Vec<_>>(),
        },
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

pub(super) fn socket(addr: std::net::SocketAddr) -> Value {
    json!({ "socket_address": { "address": addr.ip().to_string(), "port_value": addr.port() } })
}

fn overload_manager() -> Value {
    let heap = "envoy.resource_monitors.fixed_heap";
    let on_heap = |value: f64| json!([{ "name": heap, "threshold": { "value": value } }]);
    json!({
        "refresh_interval": "0.25s",
        "resource_monitors": [
            {
                "name": heap,
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
                    "max_heap_size_bytes": MAX_HEAP_BYTES,
                },
            },
            {
                "name": "envoy.resource_monitors.global_downstream_max_connections",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    "max_active_downstream_connections": GLOBAL_MAX_CONNECTIONS,
                },
            },
        ],
        "actions": [
            { "name": "envoy.overload_actions.shrink_heap", "triggers": on_heap(0.95) },
            { "name": "envoy.overload_actions.disable_http_keepalive", "triggers": on_heap(0.95) },
            { "name": "envoy.overload_actions.stop_accepting_requests", "triggers": on_heap(0.98) },
        ],
    })
}

fn listener(params: &EnvoyParams) -> Value {
    json!({
        "name": "edge",
        "address": socket(params.listen),
        "per_connection_buffer_limit_bytes": CONNECTION_BUFFER_BYTES,
        "filter_chains": [{
            "filters": [
                {
                    "name": "envoy.filters.network.connection_limit",
                    "typed_config": {
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit",
                        "stat_prefix": "edge_connections",
                        "max_connections": LISTENER_MAX_CONNECTIONS,
                    },
                },
                {
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": http_connection_manager(params),
                },
            ],
        }],
    })
}

/// Access log line: enough to debug a call, never a token or a body.
const ACCESS_LOG_FORMAT: &str = "[%START_TIME%] \"%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%\" \
    %RESPONSE_CODE% grpc=%GRPC_STATUS_NUMBER% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% \
    %DURATION%ms client=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% upstream=%UPSTREAM_HOST% \
    request_id=%REQ(X-REQUEST-ID)% traceparent=%REQ(TRACEPARENT)%\n";

fn http_connection_manager(params: &EnvoyParams) -> Value {
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "edge",
        // gRPC over HTTP/2 (TLS-less h2c prior knowledge) and gRPC-Web over HTTP/1.1.
        "codec_type": "AUTO",
        // Edge: trust no client-supplied forwarding headers.
        "use_remote_address": true,
        "normalize_path": true,
        "merge_slashes": true,
        // gRPC paths never contain escaped slashes; a request that does is probing.
        "path_with_escaped_slashes_action": "REJECT_REQUEST",
        "max_request_headers_kb": 32,
        "request_headers_timeout": "10s",
        // Bounds how long a client may take to send its request; server streams are
        // unaffected once the request is complete.
        "request_timeout": "300s",
        "stream_idle_timeout": "300s",
        "common_http_protocol_options": {
            "idle_timeout": "3600s",
            "headers_with_underscores_action": "REJECT_REQUEST",
            "max_headers_count": 100,
        },
        "http2_protocol_options": {
            "max_concurrent_streams": 100,
            "initial_stream_window_size": 65536,
            "initial_connection_window_size": 1048576,
        },
        "access_log": [{
            "name": "envoy.access_loggers.stdout",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
                "log_format": { "text_format_source": { "inline_string": ACCESS_LOG_FORMAT } },
            },
        }],
        "local_reply_config": local_reply_config(),
        "http_filters": filters::http_filters(params),
        "route_config": routes::route_config(params),
    })
}

/// Makes the edge's own replies read right to gRPC-Web clients, whose requests Envoy
/// answers as plain HTTP that the grpc_web filter then maps status by status (it maps
/// 429 to UNAVAILABLE, and gives an empty 404 no grpc-status at all). Native gRPC
/// clients already get the same codes.
fn local_reply_config() -> Value {
    let status_is = |code: u16| {
        json!({ "status_code_filter": { "comparison": {
            "op": "EQ", "value": { "default_value": code, "runtime_key": format!("edge.local_reply.{code}") },
        } } })
    };
    let set = |key: &str, value: &str| json!({ "header": { "key": key, "value": value }, "append_action": "OVERWRITE_IF_EXISTS_OR_ADD" });
    json!({
        "mappers": [
            // Unknown and internal paths: with a body, gRPC-Web clients get UNIMPLEMENTED.
            { "filter": status_is(404), "body": { "inline_string": routes::NOT_ROUTED } },
            // Rate limited: RESOURCE_EXHAUSTED as a trailers-only reply (no body, so the
            // grpc_web filter keeps the status instead of mapping 429 to UNAVAILABLE).
            {
                "filter": status_is(429),
                "body": { "inline_string": "" },
                "headers_to_add": [set("grpc-status", "8"), set("grpc-message", "rate limit exceeded")],
            },
            // A token for another audience is as unusable here as a bad one: 401,
            // UNAUTHENTICATED, like the services answer.
            { "filter": status_is(403), "status_code": 401 },
        ],
    })
}

fn cluster(upstream: &Upstream) -> Value {
    json!({
        "name": upstream.cluster,
        "type": "STATIC",
        "connect_timeout": "1s",
        "lb_policy": "ROUND_ROBIN",
        "per_connection_buffer_limit_bytes": CONNECTION_BUFFER_BYTES,
        "typed_extension_protocol_options": {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "common_http_protocol_options": { "idle_timeout": "300s" },
                "explicit_http_config": {
                    "http2_protocol_options": {
                        "max_concurrent_streams": 1024,
                        "connection_keepalive": { "interval": "30s", "timeout": "5s" },
                    },
                },
            },
        },
        "load_assignment": {
            "cluster_name": upstream.cluster,
            "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": socket(upstream.addr) } }] }],
        },
        "health_checks": [{
            "timeout": "1s",
            "interval": "5s",
            "no_traffic_interval": "5s",
            "unhealthy_interval": "2s",
            "unhealthy_threshold": 2,
            "healthy_threshold": 1,
            "grpc_health_check": { "service_name": upstream.service },
        }],
        "outlier_detection": {
            "consecutive_5xx": 5,
            "consecutive_gateway_failure": 3,
            "interval": "10s",
            "base_ejection_time": "15s",
            "max_ejection_percent": 50,
        },
        "circuit_breakers": {
            "thresholds": [{
                "priority": "DEFAULT",
                "max_connections": 1024,
                "max_pending_requests": 1024,
                "max_requests": 4096,
                "max_retries": 3,
            }],
        },
    })
}
