//! JWT access and service tokens: key material, signing, verification and the caller's
//! identity (`Principal`) as seen by service code.

mod credential;
mod keys;
mod layer;
mod principal;
mod surface;

pub use credential::{ServiceCredential, lazy_channel};
pub use keys::{KeyPair, KeySet};
pub use layer::{AuthLayer, AuthService, MethodPolicies, Policy};
pub use principal::{Principal, Role, Tier, UserId, UserPrincipal};
pub use surface::Surface;

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Audience of service-to-service tokens; Envoy's edge only accepts the public API
/// audience, so these can never be used from outside.
pub const INTERNAL_AUDIENCE: &str = "trainertribe-internal";
/// Prefix of key ids that belong to services rather than to the user service's issuer.
pub const SERVICE_KID_PREFIX: &str = "svc.";

/// Token kinds carried in the `typ` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A user's short-lived access token, issued by the user service.
    Access,
    /// A service's own short-lived credential for internal RPCs.
    Service,
}

/// The claims of every token we issue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub typ: TokenKind,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub tier: String,
    /// Refresh-token family (session) the access token belongs to.
    #[serde(default)]
    pub sid: String,
}

/// Issues and verifies tokens against a key set.
#[derive(Clone)]
pub struct TokenVerifier {
    keys: Arc<KeySet>,
    issuer: String,
    audience: String,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
    }
}

/// Why a token was refused; never shown to callers beyond a generic message.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("unknown key id")]
    UnknownKey,
    #[error("invalid token: {0}")]
    Invalid(String),
}

impl TokenVerifier {
    pub fn new(keys: Arc<KeySet>, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            keys,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Whether the key set holds `kid` (the issuer checks its own signing key is published).
    pub fn has_key(&self, kid: &str) -> bool {
        self.keys.decoding_key(kid).is_some()
    }

    /// Verifies signature (ES256 only), issuer, audience, exp, nbf and the kid/kind
    /// pairing, and returns the principal.
    pub fn verify(&self, token: &str) -> Result<Principal, TokenError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
        if header.alg != Algorithm::ES256 {
            return Err(TokenError::Invalid(format!(
                "algorithm {:?} not accepted",
                header.alg
            )));
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let key = self.keys.decoding_key(&kid).ok_or(TokenError::UnknownKey)?;
        let service_key = kid.starts_with(SERVICE_KID_PREFIX);

        let mut validation = Validation::new(Algorithm::ES256);
        validation.leeway = 30;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[if service_key {
            INTERNAL_AUDIENCE
        } else {
            self.audience.as_str()
        }]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| TokenError::Invalid(e.to_string()))?
            .claims;

        match (claims.typ, service_key) {
            (TokenKind::Access, false) => {
                let user_id = claims
                    .sub
                    .parse()
                    .map_err(|_| TokenError::Invalid("the subject is not a user id".into()))?;
                let expires_at = chrono::DateTime::from_timestamp(claims.exp, 0)
                    .ok_or_else(|| TokenError::Invalid("exp out of range".into()))?;
                let roles = claims.roles.iter().filter_map(|r| Role::parse(r)).collect();
                Ok(Principal::User(UserPrincipal::new(
                    user_id,
                    roles,
                    Tier::from_claim(&claims.tier),
                    claims.sid,
                    expires_at,
                )))
            }
            // A service key may only vouch for its own service.
            (TokenKind::Service, true)
                if kid
                    .strip_prefix(SERVICE_KID_PREFIX)
                    .is_some_and(|rest| rest.split('.').next() == Some(claims.sub.as_str())) =>
            {
                Ok(Principal::Service(claims.sub))
            }
            _ => Err(TokenError::Invalid(
                "token kind does not match its key".into(),
            )),
        }
    }
}

/// Signs tokens with one key pair.
#[derive(Clone)]
pub struct TokenSigner {
    key: Arc<KeyPair>,
    issuer: String,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.key.kid())
            .finish()
    }
}

impl TokenSigner {
    pub fn new(key: Arc<KeyPair>, issuer: impl Into<String>) -> Self {
        Self {
            key,
            issuer: issuer.into(),
        }
    }

    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// Signs arbitrary claims (tests use this to build hostile tokens too).
    pub fn sign_claims(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.key.kid().to_string());
        jsonwebtoken::encode(&header, claims, self.key.encoding_key()).map_err(ApiError::internal)
    }

    /// A user's access token.
    pub fn access_token(
        &self,
        audience: &str,
        user_id: &str,
        roles: Vec<String>,
        tier: &str,
        session_id: &str,
        ttl: Duration,
    ) -> Result<(String, i64), ApiError> {
        let now = chrono::Utc::now().timestamp();
        let exp = now + ttl.as_secs() as i64;
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: audience.to_string(),
            sub: user_id.to_string(),
            exp,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            typ: TokenKind::Access,
            roles,
            tier: tier.to_string(),
            sid: session_id.to_string(),
        };
        Ok((self.sign_claims(&claims)?, exp))
    }

    /// A service credential for internal RPCs, valid for `ttl`.
    pub fn service_token(&self, service: &str, ttl: Duration) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: INTERNAL_AUDIENCE.to_string(),
            sub: service.to_string(),
            exp: now + ttl.as_secs() as i64,
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            typ: TokenKind::Service,
            roles: vec!["service".into()],
            tier: String::new(),
            sid: String::new(),
        };
        self.sign_claims(&claims)
    }
}
