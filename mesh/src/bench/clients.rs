//! How scenarios reach a server: pools of native gRPC channels (HTTP/2, one connection
//! each) and a gRPC-Web caller over HTTP/1.1 keep-alive connections, as browsers use.

use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

/// `connections` channels to `url`, each its own HTTP/2 connection.
pub async fn channels(url: &str, connections: usize) -> anyhow::Result<Vec<Channel>> {
    let mut out = Vec::new();
    for _ in 0..connections.max(1) {
        let channel = Endpoint::from_shared(url.to_string())?
            .connect_timeout(Duration::from_secs(5))
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("connect {url}: {e}"))?;
        out.push(channel);
    }
    Ok(out)
}

/// Adds `authorization: Bearer <token>` when a token is given.
pub fn request<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = token.and_then(|t| format!("Bearer {t}").parse().ok()) {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// A spread of call numbers over `len` slots that does not follow the callers' order.
pub fn pick(n: u64, len: usize) -> usize {
    (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 17) as usize % len.max(1)
}

/// A unary gRPC-Web client (`application/grpc-web+proto`, HTTP/1.1).
#[derive(Debug, Clone)]
pub struct GrpcWeb {
    http: reqwest::Client,
    base: String,
}

impl GrpcWeb {
    pub fn new(base: &str, connections: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(connections.max(1) * 64)
            .build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// Calls `path` with `message`; Ok when grpc-status is 0 and a message came back.
    pub async fn call<M: prost::Message>(
        &self,
        path: &str,
        message: &M,
        token: Option<&str>,
    ) -> Result<(), tonic::Code> {
        let body = message.encode_to_vec();
        let mut framed = Vec::with_capacity(body.len() + 5);
        framed.push(0u8);
        framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
        framed.extend_from_slice(&body);
        let mut builder = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(framed);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        let response = builder.send().await.map_err(|_| tonic::Code::Unavailable)?;
        let header_status = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok());
        if !response.status().is_success() {
            return Err(tonic::Code::Unavailable);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|_| tonic::Code::Unavailable)?;
        let mut status = header_status;
        let mut rest = bytes.as_ref();
        while rest.len() >= 5 {
            let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            let end = (5 + len).min(rest.len());
            if rest[0] & 0x80 != 0 {
                for line in String::from_utf8_lossy(&rest[5..end]).split("\r\n") {
                    if let Some((k, v)) = line.split_once(':')
                        && k.trim().eq_ignore_ascii_case("grpc-status")
                    {
                        status = v.trim().parse().ok();
                    }
                }
            }
            rest = &rest[end..];
        }
        match status {
            Some(0) => Ok(()),
            Some(code) => Err(tonic::Code::from_i32(code)),
            None => Err(tonic::Code::Unknown),
        }
    }
}
