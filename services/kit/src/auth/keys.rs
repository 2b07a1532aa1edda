//! ES256 key pairs and JWKS key sets, in the file formats the launcher writes and Envoy's
//! `jwt_authn` filter reads.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A P-256 private key with its key id.
pub struct KeyPair {
    kid: String,
    pem: String,
    encoding: EncodingKey,
    jwk: Jwk,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// One public key in JWKS form.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct JwksDocument {
    keys: Vec<Jwk>,
}

impl KeyPair {
    /// A fresh random key. `kid_prefix` is "" for the user-token issuer and
    /// "svc.<name>." for a service's own credential key.
    pub fn generate(kid_prefix: &str) -> anyhow::Result<Self> {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .context("encode key")?
            .to_string();
        Self::from_pem_with_prefix(&pem, kid_prefix)
    }

    /// Parses a PKCS#8 PEM key; the kid is derived from the public key.
    pub fn from_pem_with_prefix(pem: &str, kid_prefix: &str) -> anyhow::Result<Self> {
        let secret = p256::SecretKey::from_pkcs8_pem(pem).context("parse PKCS#8 P-256 key")?;
        let point = secret.public_key().to_encoded_point(false);
        let (x, y) = (point.x().context("no x")?, point.y().context("no y")?);
        let mut hasher = Sha256::new();
        hasher.update(x);
        hasher.update(y);
        let thumb = URL_SAFE_NO_PAD.encode(&hasher.finalize()[..12]);
        let kid = format!("{kid_prefix}{thumb}");
        let jwk = Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: URL_SAFE_NO_PAD.encode(x),
            y: URL_SAFE_NO_PAD.encode(y),
            kid: kid.clone(),
            alg: "ES256".into(),
            use_: "sig".into(),
        };
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).context("load signing key")?;
        Ok(Self {
            kid,
            pem: pem.to_string(),
            encoding,
            jwk,
        })
    }

    pub fn load(path: &Path, kid_prefix: &str) -> anyhow::Result<Self> {
        let pem = std::fs::read_to_string(path)
            .with_context(|| format!("read key {}", path.display()))?;
        Self::from_pem_with_prefix(&pem, kid_prefix)
    }

    /// Loads the key at `path`, or generates and writes one (mode 0600) if absent.
    pub fn load_or_generate(path: &Path, kid_prefix: &str) -> anyhow::Result<Self> {
        if path.exists() {
            return Self::load(path, kid_prefix);
        }
        let key = Self::generate(kid_prefix)?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, &key.pem)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(key)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub(crate) fn encoding_key(&self) -> &EncodingKey {
        &self.encoding
    }
}

/// The public keys a verifier trusts, by kid.
#[derive(Default)]
pub struct KeySet {
    jwks: Vec<Jwk>,
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.keys.keys()).finish()
    }
}

impl KeySet {
    pub fn from_jwks(jwks: Vec<Jwk>) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        for jwk in &jwks {
            anyhow::ensure!(
                jwk.kty == "EC" && jwk.crv == "P-256" && jwk.alg == "ES256",
                "key {} is not ES256",
                jwk.kid
            );
            keys.insert(
                jwk.kid.clone(),
                DecodingKey::from_ec_components(&jwk.x, &jwk.y)?,
            );
        }
        Ok(Self { jwks, keys })
    }

    pub fn from_json(json: &str) -> anyhow::Result<Self> {
        let doc: JwksDocument = serde_json::from_str(json).context("parse JWKS")?;
        Self::from_jwks(doc.keys)
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let json = std::fs::read_to_string(path)
            .with_context(|| format!("read JWKS {}", path.display()))?;
        Self::from_json(&json)
    }

    /// The JWKS document (`{"keys": [...]}`), as Envoy's `local_jwks` expects.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&JwksDocument {
            keys: self.jwks.clone(),
        })
        .unwrap_or_default()
    }

    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid)
    }

    pub fn jwks(&self) -> &[Jwk] {
        &self.jwks
    }
}
