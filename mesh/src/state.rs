//! The launcher's state directory (`.tribe/`): keys and secrets made on first run, logs,
//! engine data, Envoy's rendered config, pid files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tribe_kit::auth::{KeyPair, KeySet};

use crate::services::{SERVICES, ServiceSpec};

/// Paths under the state directory.
#[derive(Debug, Clone)]
pub struct State {
    pub root: PathBuf,
}

impl State {
    /// `$TRIBE_STATE_DIR`, else `<workspace>/.tribe`.
    pub fn locate(workspace: &Path) -> Self {
        let root = std::env::var_os("TRIBE_STATE_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join(".tribe"));
        Self { root }
    }

    pub fn keys(&self) -> PathBuf {
        self.root.join("keys")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    /// Kafka's KRaft log and metadata.
    pub fn kafka(&self) -> PathBuf {
        self.root.join("kafka")
    }
    /// The CQL server's data (`tribe up --cql`).
    pub fn cql(&self) -> PathBuf {
        self.root.join("cql")
    }
    pub fn envoy(&self) -> PathBuf {
        self.root.join("envoy")
    }
    pub fn run(&self) -> PathBuf {
        self.root.join("run")
    }
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.logs().join(format!("{name}.log"))
    }
    pub fn pid_file(&self, name: &str) -> PathBuf {
        self.run().join(format!("{name}.pid"))
    }

    /// Creates every directory (idempotent).
    pub fn ensure(&self) -> anyhow::Result<()> {
        for dir in [
            self.root.clone(),
            self.keys(),
            self.logs(),
            self.kafka(),
            self.envoy(),
            self.run(),
        ] {
            std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        }
        restrict(&self.keys(), 0o700)
    }
}

/// The key material services and the edge are started with.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Signs user access tokens (user service only).
    pub user_signing_key: PathBuf,
    /// Per service: its own service-credential key.
    pub service_keys: Vec<(&'static str, PathBuf)>,
    /// Every public key (issuer and services): what services verify with.
    pub jwks: PathBuf,
    /// Only the user-token issuer's key: what the edge verifies with, so a service key
    /// can never produce a token the edge accepts.
    pub edge_jwks: PathBuf,
    /// MAC key for page tokens, shared by every service (64 hex characters).
    pub page_token_secret: String,
}

impl Keys {
    pub fn service_key(&self, spec: &ServiceSpec) -> Option<&Path> {
        self.service_keys
            .iter()
            .find(|(n, _)| *n == spec.name)
            .map(|(_, p)| p.as_path())
    }
}

/// Loads the keys, generating any that are missing, and (re)writes both JWKS files.
/// Returns the keys and the names of those generated now.
pub fn ensure_keys(state: &State) -> anyhow::Result<(Keys, Vec<String>)> {
    let dir = state.keys();
    let mut created = Vec::new();
    let mut load = |file: &str, prefix: &str| -> anyhow::Result<KeyPair> {
        let path = dir.join(file);
        if !path.exists() {
            created.push(file.to_string());
        }
        KeyPair::load_or_generate(&path, prefix)
    };

    let user = load("user-signing.pem", "")?;
    let mut jwks = vec![user.jwk().clone()];
    let mut service_keys = Vec::new();
    for spec in SERVICES {
        let file = format!("svc-{}.pem", spec.name);
        let key = load(
            &file,
            &format!("{}{}.", tribe_kit::auth::SERVICE_KID_PREFIX, spec.name),
        )?;
        jwks.push(key.jwk().clone());
        service_keys.push((spec.name, dir.join(file)));
    }

    let all = dir.join("jwks.json");
    write_if_changed(&all, &KeySet::from_jwks(jwks)?.to_json())?;
    let edge = dir.join("edge-jwks.json");
    write_if_changed(
        &edge,
        &KeySet::from_jwks(vec![user.jwk().clone()])?.to_json(),
    )?;

    let secret_file = dir.join("page-token.secret");
    let page_token_secret = match std::fs::read_to_string(&secret_file) {
        Ok(s) if s.trim().len() == 64 && s.trim().chars().all(|c| c.is_ascii_hexdigit()) => {
            s.trim().to_string()
        }
        _ => {
            let bytes: [u8; 32] = rand::random();
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            std::fs::write(&secret_file, &hex)
                .with_context(|| format!("write {}", secret_file.display()))?;
            restrict(&secret_file, 0o600)?;
            created.push("page-token.secret".into());
            hex
        }
    };

    let keys = Keys {
        user_signing_key: dir.join("user-signing.pem"),
        service_keys,
        jwks: all,
        edge_jwks: edge,
        page_token_secret,
    };
    Ok((keys, created))
}

fn write_if_changed(path: &Path, content: &str) -> anyhow::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

fn restrict(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
