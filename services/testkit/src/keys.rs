//! Keys and tokens of one test: the user-token issuer, a service key, the JWKS, and the
//! hostile tokens every service and the edge must refuse.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tribe_kit::auth::{KeyPair, KeySet, TokenSigner, TokenVerifier};
use tribe_kit::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};

/// Keys of one test: the user-token issuer and one service key, with a JWKS file.
pub struct TestKeys {
    dir: tempfile::TempDir,
    pub issuer_key: Arc<KeyPair>,
    pub service_key: Arc<KeyPair>,
    pub keyset: Arc<KeySet>,
}

impl std::fmt::Debug for TestKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKeys")
            .field("dir", &self.dir.path())
            .finish()
    }
}

/// Name of the service whose credential tests mint.
pub const TEST_SERVICE: &str = "content";

/// Services that call others in tests: each gets its own credential key in the JWKS,
/// at [`TestKeys::service_key_path`].
pub const CALLING_SERVICES: &[&str] = &["fitness", "support"];

impl TestKeys {
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let issuer_key = KeyPair::generate("")?;
        let service_key = KeyPair::generate(&format!("svc.{TEST_SERVICE}."))?;
        std::fs::write(dir.path().join("user-signing.pem"), issuer_key.pem())?;
        std::fs::write(dir.path().join("svc.pem"), service_key.pem())?;
        let mut jwks = vec![issuer_key.jwk().clone(), service_key.jwk().clone()];
        for name in CALLING_SERVICES {
            let key = KeyPair::generate(&format!("svc.{name}."))?;
            std::fs::write(dir.path().join(format!("svc-{name}.pem")), key.pem())?;
            jwks.push(key.jwk().clone());
        }
        let keyset = KeySet::from_jwks(jwks)?;
        std::fs::write(dir.path().join("jwks.json"), keyset.to_json())?;
        Ok(Self {
            dir,
            issuer_key: Arc::new(issuer_key),
            service_key: Arc::new(service_key),
            keyset: Arc::new(keyset),
        })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// How a service under test verifies tokens: this key set, the default issuer and audience.
    pub fn auth_config(&self) -> tribe_kit::config::AuthConfig {
        tribe_kit::config::AuthConfig {
            jwks_file: self.jwks_path(),
            issuer: DEFAULT_ISSUER.into(),
            audience: DEFAULT_AUDIENCE.into(),
        }
    }

    pub fn jwks_path(&self) -> PathBuf {
        self.dir.path().join("jwks.json")
    }

    /// The credential key of `service` (one of [`CALLING_SERVICES`], or the
    /// [`TEST_SERVICE`]), for its `service_key_file`.
    pub fn service_key_path(&self, service: &str) -> PathBuf {
        if service == TEST_SERVICE {
            self.dir.path().join("svc.pem")
        } else {
            self.dir.path().join(format!("svc-{service}.pem"))
        }
    }

    pub fn issuer_key_path(&self) -> PathBuf {
        self.dir.path().join("user-signing.pem")
    }

    pub fn signer(&self) -> TokenSigner {
        TokenSigner::new(self.issuer_key.clone(), DEFAULT_ISSUER)
    }

    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::new(self.keyset.clone(), DEFAULT_ISSUER, DEFAULT_AUDIENCE)
    }

    /// A valid access token for `user_id` with `roles` (e.g. ["user"], ["user","admin"]).
    pub fn access_token(&self, user_id: &str, roles: &[&str]) -> String {
        self.access_token_with_tier(user_id, roles, "free")
    }

    /// A valid access token whose `tier` claim is `tier` ("free", "premium", "pro").
    pub fn access_token_with_tier(&self, user_id: &str, roles: &[&str], tier: &str) -> String {
        self.signer()
            .access_token(
                DEFAULT_AUDIENCE,
                user_id,
                roles.iter().map(|r| r.to_string()).collect(),
                tier,
                "test-session",
                Duration::from_secs(900),
            )
            .map(|(token, _)| token)
            .unwrap_or_default()
    }

    /// A service credential of [`TEST_SERVICE`].
    pub fn service_token(&self) -> String {
        TokenSigner::new(self.service_key.clone(), DEFAULT_ISSUER)
            .service_token(TEST_SERVICE, Duration::from_secs(300))
            .unwrap_or_default()
    }
}

/// Wraps a message in a request carrying `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Tokens that must be refused everywhere (Envoy and every service), with a name each:
/// unsigned, HS256 keyed with the public key, expired, not yet valid, wrong audience,
/// wrong issuer, unknown key id, a service key posing as the user issuer, and a refresh
/// token presented as an access token (`refresh_token` from a real login).
pub fn hostile_tokens(
    keys: &TestKeys,
    user_id: &str,
    refresh_token: &str,
) -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use tribe_kit::auth::{Claims, TokenKind};

    let now = chrono::Utc::now().timestamp();
    let claims = |f: &dyn Fn(&mut Claims)| {
        let mut c = Claims {
            iss: DEFAULT_ISSUER.into(),
            aud: DEFAULT_AUDIENCE.into(),
            sub: user_id.into(),
            exp: now + 600,
            nbf: now - 10,
            iat: now - 10,
            jti: uuid::Uuid::new_v4().to_string(),
            typ: TokenKind::Access,
            roles: vec!["user".into(), "admin".into()],
            tier: "pro".into(),
            sid: String::new(),
        };
        f(&mut c);
        c
    };
    let sign = |c: &Claims| keys.signer().sign_claims(c).unwrap_or_default();
    let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let body = serde_json::to_value(claims(&|_| {})).unwrap_or_default();

    let unsigned = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT", "kid": keys.issuer_key.kid()})),
        b64(&body)
    );
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(keys.issuer_key.kid().to_string());
        let public = serde_json::to_string(keys.issuer_key.jwk()).unwrap_or_default();
        jsonwebtoken::encode(
            &header,
            &body,
            &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()),
        )
        .unwrap_or_default()
    };
    let stranger = KeyPair::generate("").map(Arc::new).ok();
    let unknown_kid = stranger
        .map(|k| {
            TokenSigner::new(k, DEFAULT_ISSUER)
                .sign_claims(&claims(&|_| {}))
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let service_as_user = TokenSigner::new(keys.service_key.clone(), DEFAULT_ISSUER)
        .sign_claims(&claims(&|_| {}))
        .unwrap_or_default();
    vec![
        ("alg none", unsigned),
        ("HS256 keyed with the public key", hs256),
        (
            "expired",
            sign(&claims(&|c| {
                c.exp = now - 3600;
                c.nbf = now - 7200;
            })),
        ),
        ("not yet valid", sign(&claims(&|c| c.nbf = now + 3600))),
        (
            "wrong audience",
            sign(&claims(&|c| c.aud = "someone-else".into())),
        ),
        ("wrong issuer", sign(&claims(&|c| c.iss = "evil".into()))),
        ("unknown kid", unknown_kid),
        ("service key posing as user issuer", service_as_user),
        ("refresh token as access token", refresh_token.to_string()),
        ("garbage", "not.a.jwt".into()),
    ]
}
