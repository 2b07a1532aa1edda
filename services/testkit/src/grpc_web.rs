//! A minimal gRPC-Web client over HTTP/1.1, as a browser would talk to the edge (`application/grpc-web+proto`, length-prefixed frames, trailers in the body).

use prost::Message;

/// The outcome of a unary gRPC-Web call: the decoded response, or the status code and
/// message from the trailers (or trailers-only headers).
pub async fn call<Req: Message, Resp: Message + Default>(
    base_url: &str,
    path: &str,
    request: &Req,
    token: Option<&str>,
) -> anyhow::Result<Result<Resp, (i32, String)>> {
    let body = request.encode_to_vec();
    let mut framed = Vec::with_capacity(body.len() + 5);
    framed.push(0u8);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(&body);
    let client = reqwest::Client::builder().http1_only().build()?;
    let mut builder = client
        .post(format!("{base_url}{path}"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", "http://localhost:3000")
        .body(framed);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let response = builder.send().await?;
    anyhow::ensure!(
        response.version() == reqwest::Version::HTTP_11,
        "expected HTTP/1.1, got {:?}",
        response.version()
    );
    let http_status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let (header_status, header_message) = (header("grpc-status"), header("grpc-message"));
    let bytes = response.bytes().await?;
    let (mut message, mut status, mut status_message) = (None, header_status, header_message);
    let mut rest = bytes.as_ref();
    while rest.len() >= 5 {
        let flag = rest[0];
        let len = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
        anyhow::ensure!(rest.len() >= 5 + len, "truncated gRPC-Web frame");
        let frame = &rest[5..5 + len];
        if flag & 0x80 == 0 {
            message = Some(Resp::decode(frame)?);
        } else {
            for line in String::from_utf8_lossy(frame).split("\r\n") {
                if let Some((key, value)) = line.split_once(':') {
                    match key.trim().to_ascii_lowercase().as_str() {
                        "grpc-status" => status = Some(value.trim().to_string()),
                        "grpc-message" => status_message = Some(value.trim().to_string()),
                        _ => {}
                    }
                }
            }
        }
        rest = &rest[5 + len..];
    }
    let code: i32 = match status {
        Some(s) => s.parse()?,
        None => anyhow::bail!("no grpc-status (HTTP {http_status})"),
    };
    if code == 0 {
        Ok(Ok(message.unwrap_or_default()))
    } else {
        Ok(Err((code, status_message.unwrap_or_default())))
    }
}
