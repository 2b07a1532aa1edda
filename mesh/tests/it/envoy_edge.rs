//! A real Envoy started from the rendered config, with no service behind it: what a
//! client sees for health, unknown and internal paths, tokens, CORS and rate limits.
use std::time::Duration;

use crate::common;
use crate::common::{grpc_h2c, grpc_web, now};
use tribe_kit::auth::{Claims, TokenKind, TokenSigner};

const UNAUTHENTICATED: u32 = 16;
const UNIMPLEMENTED: u32 = 12;
const UNAVAILABLE: u32 = 14;
const RESOURCE_EXHAUSTED: u32 = 8;
const PROTECTED: &str = "/trainertribe.user.v1.UserService/GetUser";

fn claims(aud: &str, iss: &str, exp: i64, typ: TokenKind) -> Claims {
    Claims {
        iss: iss.into(),
        aud: aud.into(),
        sub: "0190b7a0-0000-7000-8000-000000000001".into(),
        exp,
        nbf: now() - 5,
        iat: now() - 5,
        jti: "test".into(),
        typ,
        roles: vec!["user".into()],
        tier: "free".into(),
        sid: "s".into(),
    }
}

#[tokio::test]
async fn edge_is_ready_and_refuses_unknown_and_internal_paths() {
    let dir = tempfile::tempdir().unwrap();
    common::keys(dir.path());
    let params = common::params(dir.path(), vec![common::user_upstream(common::free_addr())]);
    let envoy = common::start(&params, dir.path()).await;
    let edge = envoy.listen_addr();

    assert_eq!(
        tribe_mesh::health::envoy_ready(params.admin).await.unwrap(),
        "LIVE"
    );
    let health = common::http()
        .get(format!("http://{edge}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let unknown = common::http()
        .post(format!("http://{edge}/no/such/path"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        404,
        "unknown paths are not routed anywhere"
    );
    let root = common::http()
        .get(format!("http://{edge}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 404);

    // A gRPC service the edge does not route (reflection) is UNIMPLEMENTED for gRPC clients.
    let reflection = grpc_web(
        edge,
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        None,
    )
    .await;
    assert_eq!(
        reflection.grpc_status,
        Some(UNIMPLEMENTED),
        "{reflection:?}"
    );
    assert_eq!(
        grpc_h2c(
            edge,
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        )
        .await,
        Some(UNIMPLEMENTED)
    );
    assert_eq!(
        grpc_h2c(edge, "/trainertribe.user.v1.UserService/BatchGetUsers").await,
        Some(UNIMPLEMENTED)
    );

    // Internal methods are refused the same way, with or without a token.
    for method in ["BatchGetUsers", "BatchGetRelationships", "ListFollowerIds"] {
        let path = format!("/trainertribe.user.v1.UserService/{method}");
        let reply = grpc_web(edge, &path, None).await;
        assert_eq!(
            reply.grpc_status,
            Some(UNIMPLEMENTED),
            "{method}: {reply:?}"
        );
        let plain = common::http()
            .post(format!("http://{edge}{path}"))
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(plain.status(), 404, "{method}");
    }
    envoy.stop().await;
}

#[tokio::test]
async fn protected_methods_need_a_valid_user_token() {
    let dir = tempfile::tempdir().unwrap();
    let keys = common::keys(dir.path());
    let params = common::params(dir.path(), vec![common::user_upstream(common::free_addr())]);
    let envoy = common::start(&params, dir.path()).await;
    let edge = envoy.listen_addr();
    let issuer = TokenSigner::new(keys.issuer.clone(), "trainertribe");

    let missing = grpc_web(edge, PROTECTED, None).await;
    assert_eq!(missing.grpc_status, Some(UNAUTHENTICATED), "{missing:?}");

    let rejected = [
        ("garbage", "not.a.jwt".to_string()),
        (
            "expired",
            issuer
                .sign_claims(&claims(
                    "trainertribe-api",
                    "trainertribe",
                    now() - 600,
                    TokenKind::Access,
                ))
                .unwrap(),
        ),
        (
            "wrong audience",
            issuer
                .sign_claims(&claims(
                    "elsewhere",
                    "trainertribe",
                    now() + 600,
                    TokenKind::Access,
                ))
                .unwrap(),
        ),
        (
            "wrong issuer",
            issuer
                .sign_claims(&claims(
                    "trainertribe-api",
                    "mallory",
                    now() + 600,
                    TokenKind::Access,
                ))
                .unwrap(),
        ),
        (
            "service credential",
            TokenSigner::new(keys.service.clone(), "trainertribe")
                .service_token("content", Duration::from_secs(300))
                .unwrap(),
        ),
    ];
    for (what, token) in &rejected {
        let reply = grpc_web(edge, PROTECTED, Some(token)).await;
        assert_eq!(
            reply.grpc_status,
            Some(UNAUTHENTICATED),
            "{what}: {reply:?}"
        );
    }

    // A token in a query parameter is not looked at.
    let (valid, _) = issuer
        .access_token(
            "trainertribe-api",
            "0190b7a0-0000-7000-8000-000000000001",
            vec!["user".into()],
            "free",
            "s",
            Duration::from_secs(600),
        )
        .unwrap();
    let in_query = grpc_web(edge, &format!("{PROTECTED}?access_token={valid}"), None).await;
    assert_eq!(in_query.grpc_status, Some(UNAUTHENTICATED), "{in_query:?}");

    // A valid token passes the edge; with no service behind it the call is UNAVAILABLE.
    let accepted = grpc_web(edge, PROTECTED, Some(&valid)).await;
    assert_eq!(accepted.grpc_status, Some(UNAVAILABLE), "{accepted:?}");
    assert_eq!(
        grpc_h2c(edge, PROTECTED).await,
        Some(UNAUTHENTICATED),
        "native gRPC without a token"
    );
    // Sign-up needs no token.
    let register = grpc_web(edge, "/trainertribe.user.v1.UserService/Register", None).await;
    assert_eq!(register.grpc_status, Some(UNAVAILABLE), "{register:?}");
    envoy.stop().await;
}

#[tokio::test]
async fn login_and_register_share_a_stricter_bucket_answered_as_resource_exhausted() {
    let dir = tempfile::tempdir().unwrap();
    common::keys(dir.path());
    let mut params = common::params(dir.path(), vec![common::user_upstream(common::free_addr())]);
    params.auth_rpm = 2;
    let envoy = common::start(&params, dir.path()).await;
    let edge = envoy.listen_addr();

    let login = "/trainertribe.user.v1.UserService/Login";
    let register = "/trainertribe.user.v1.UserService/Register";
    let first = grpc_web(edge, login, None).await;
    let second = grpc_web(edge, register, None).await;
    assert_eq!(first.grpc_status, Some(UNAVAILABLE), "{first:?}");
    assert_eq!(second.grpc_status, Some(UNAVAILABLE), "{second:?}");
    let third = grpc_web(edge, login, None).await;
    assert_eq!(third.grpc_status, Some(RESOURCE_EXHAUSTED), "{third:?}");
    let plain_grpc = grpc_h2c(edge, register).await;
    assert_eq!(plain_grpc, Some(RESOURCE_EXHAUSTED), "native gRPC over h2c");

    // Other anonymous methods are only under the (large) global bucket.
    let refresh = grpc_web(edge, "/trainertribe.user.v1.UserService/RefreshToken", None).await;
    assert_eq!(refresh.grpc_status, Some(UNAVAILABLE), "{refresh:?}");
    envoy.stop().await;
}

#[tokio::test]
async fn cors_allows_only_configured_origins_and_exposes_grpc_status() {
    let dir = tempfile::tempdir().unwrap();
    common::keys(dir.path());
    let params = common::params(dir.path(), vec![common::user_upstream(common::free_addr())]);
    let envoy = common::start(&params, dir.path()).await;
    let edge = envoy.listen_addr();
    let preflight = |origin: &'static str| {
        common::http()
            .request(
                reqwest::Method::OPTIONS,
                format!("http://{edge}{PROTECTED}"),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type,x-grpc-web",
            )
            .send()
    };

    let allowed = preflight("http://localhost:3000").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    let allow_headers = allowed.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        allow_headers.contains("authorization") && allow_headers.contains("x-grpc-web"),
        "{allow_headers}"
    );

    let denied = preflight("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let reply = common::http()
        .post(format!("http://{edge}{PROTECTED}"))
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/grpc-web+proto")
        .body(vec![0u8; 5])
        .send()
        .await
        .unwrap();
    let exposed = reply.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        exposed.contains("grpc-status") && exposed.contains("grpc-message"),
        "{exposed}"
    );
    envoy.stop().await;
}

#[tokio::test]
async fn hardening_rejects_underscored_headers_and_escaped_slashes() {
    let dir = tempfile::tempdir().unwrap();
    common::keys(dir.path());
    let params = common::params(dir.path(), vec![common::user_upstream(common::free_addr())]);
    let envoy = common::start(&params, dir.path()).await;
    let edge = envoy.listen_addr();

    let underscore = common::http()
        .post(format!(
            "http://{edge}/trainertribe.user.v1.UserService/Login"
        ))
        .header("x_user_id", "admin")
        .body(vec![0u8; 5])
        .send()
        .await
        .unwrap();
    assert_eq!(underscore.status(), 400);

    let escaped = common::http()
        .post(format!(
            "http://{edge}/trainertribe.user.v1.UserService%2FBatchGetUsers"
        ))
        .body(vec![0u8; 5])
        .send()
        .await
        .unwrap();
    assert_eq!(escaped.status(), 400);
    envoy.stop().await;
}
