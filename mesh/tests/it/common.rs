//! Helpers shared by the edge tests: free ports, a key pair and JWKS, a user upstream,
//! and a minimal gRPC-Web client over HTTP/1.1.
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;

use tribe_kit::auth::{KeyPair, KeySet};
use tribe_mesh::envoy::{EnvoyParams, EnvoyProcess, Upstream, envoy_binary};

/// A port nothing listens on right now.
pub fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The user service's edge view, pointing at `addr`.
pub fn user_upstream(addr: SocketAddr) -> Upstream {
    let s = |v: &[&str]| v.iter().map(|m| m.to_string()).collect();
    Upstream {
        cluster: "user".into(),
        service: "trainertribe.user.v1.UserService".into(),
        addr,
        anonymous_methods: s(&["Register", "Login", "RefreshToken"]),
        internal_methods: s(&["BatchGetUsers", "BatchGetRelationships", "ListFollowerIds"]),
        streaming_methods: s(&["ListFollowerIds"]),
    }
}

pub fn content_upstream(addr: SocketAddr) -> Upstream {
    Upstream {
        cluster: "content".into(),
        service: "trainertribe.content.v1.ContentService".into(),
        addr,
        anonymous_methods: vec![],
        internal_methods: vec!["BatchGetPosts".into()],
        streaming_methods: vec![],
    }
}

/// A fresh issuer key and a service key; the JWKS written to `dir/jwks.json` holds only
/// the issuer's public key, like the launcher's edge JWKS.
pub struct Keys {
    pub issuer: Arc<KeyPair>,
    pub service: Arc<KeyPair>,
}

pub fn keys(dir: &Path) -> Keys {
    let issuer = KeyPair::generate("").unwrap();
    let service = KeyPair::generate("svc.content.").unwrap();
    let jwks = KeySet::from_jwks(vec![issuer.jwk().clone()])
        .unwrap()
        .to_json();
    std::fs::write(dir.join("jwks.json"), jwks).unwrap();
    Keys {
        issuer: Arc::new(issuer),
        service: Arc::new(service),
    }
}

/// Params for an edge on free ports with the given upstreams.
pub fn params(dir: &Path, upstreams: Vec<Upstream>) -> EnvoyParams {
    let mut params = EnvoyParams::new(free_addr(), free_addr(), dir.join("jwks.json"), upstreams);
    params.cors_origins = vec!["http://localhost:3000".into()];
    params
}

pub async fn start(params: &EnvoyParams, dir: &Path) -> EnvoyProcess {
    let binary = envoy_binary();
    assert!(
        binary.is_file(),
        "envoy binary missing at {} (run mesh/setup.sh envoy)",
        binary.display()
    );
    EnvoyProcess::start(&binary, params, &dir.join("envoy"))
        .await
        .unwrap()
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .build()
        .unwrap()
}

/// The outcome of one gRPC-Web call. Every field shows in a failed assertion's `{:?}`,
/// though only some are asserted on.
#[derive(Debug)]
#[allow(dead_code)]
pub struct GrpcWebReply {
    pub http_status: u16,
    pub grpc_status: Option<u32>,
    pub grpc_message: String,
    pub headers: reqwest::header::HeaderMap,
}

/// POSTs an empty protobuf message as gRPC-Web (HTTP/1.1) to `path`.
pub async fn grpc_web(edge: SocketAddr, path: &str, bearer: Option<&str>) -> GrpcWebReply {
    let mut request = http()
        .post(format!("http://{edge}{path}"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("x-user-agent", "grpc-web-javascript/0.1")
        // One uncompressed, empty message.
        .body(vec![0u8, 0, 0, 0, 0]);
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.unwrap();
    let http_status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap();
    let mut trailers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("grpc-"))
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    // Trailers may also come as the last frame of the body (flag 0x80).
    let mut rest = &body[..];
    while rest.len() >= 5 {
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        let frame = &rest[5..(5 + len).min(rest.len())];
        if rest[0] & 0x80 != 0 {
            for line in String::from_utf8_lossy(frame).split("\r\n") {
                if let Some((k, v)) = line.split_once(':') {
                    trailers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                }
            }
        }
        rest = &rest[(5 + len).min(rest.len())..];
    }
    let find = |name: &str| {
        trailers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    GrpcWebReply {
        http_status,
        grpc_status: find("grpc-status").and_then(|s| s.parse().ok()),
        grpc_message: find("grpc-message").unwrap_or_default(),
        headers,
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The grpc-status of an empty native gRPC call (HTTP/2 prior knowledge, no token).
pub async fn grpc_h2c(edge: SocketAddr, path: &str) -> Option<u32> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client
        .post(format!("http://{edge}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "gRPC errors travel as grpc-status over HTTP 200"
    );
    // Envoy's own replies are trailers-only: the status is in the headers.
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}
