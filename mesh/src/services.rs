//! The table of TrainerTribe services: crate, port, environment prefix, database and
//! what the edge must know about each. Adding a service to the mesh is one entry here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

use tribe_kit::auth::Surface;

use crate::envoy::Upstream;

/// One service of the mesh.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    /// Short name: "user"; also the Kafka domain, the key name and the log file name.
    pub name: &'static str,
    /// Cargo package, whose binary has the same name: "tribe-user".
    pub package: &'static str,
    pub port: u16,
    /// Environment prefix of its own settings: "TRIBE_USER".
    pub env_prefix: &'static str,
    /// Its PostgreSQL database; migrations live in `migrations/<name>/`.
    pub database: Option<&'static str>,
    /// Fully qualified proto service, also its health-check name.
    pub grpc_service: &'static str,
    /// What the service's crate declares in its `policy::SURFACE` (which methods are
    /// anonymous, internal, streaming): read from the crate, never restated here. `None`
    /// for a service that has contracts but no crate yet; the edge routes nothing to it.
    pub surface: Option<&'static Surface>,
    /// Whether it signs user access tokens (gets `TRIBE_USER_SIGNING_KEY_FILE`).
    pub issues_user_tokens: bool,
    /// Services it calls directly (gRPC, with its service credential); the launcher
    /// passes each one's address as `<ENV_PREFIX>_<NAME>_URL`.
    pub calls: &'static [&'static str],
    /// Whether it has a CQL store (ScyllaDB in production), which `tribe up --cql` points
    /// at the local CQL server with `TRIBE_SCYLLA_NODES`.
    pub cql_store: bool,
    /// Extra settings for the local mesh only (`tribe up`), e.g. demo data.
    pub local_env: &'static [(&'static str, &'static str)],
}

const fn spec(
    name: &'static str,
    package: &'static str,
    port: u16,
    env_prefix: &'static str,
    grpc_service: &'static str,
) -> ServiceSpec {
    ServiceSpec {
        name,
        package,
        port,
        env_prefix,
        database: None,
        grpc_service,
        surface: None,
        issues_user_tokens: false,
        calls: &[],
        cql_store: false,
        local_env: &[],
    }
}

/// Every service, in start order.
pub const SERVICES: &[ServiceSpec] = &[
    ServiceSpec {
        database: Some("tribe_user"),
        surface: Some(&tribe_user::policy::SURFACE),
        issues_user_tokens: true,
        ..spec(
            "user",
            "tribe-user",
            50051,
            "TRIBE_USER",
            "trainertribe.user.v1.UserService",
        )
    },
    ServiceSpec {
        database: Some("tribe_content"),
        surface: Some(&tribe_content::policy::SURFACE),
        // Fan-out (ListFollowerIds) and author summaries (BatchGetUsers).
        calls: &["user"],
        // Home timelines.
        cql_store: true,
        ..spec(
            "content",
            "tribe-content",
            50052,
            "TRIBE_CONTENT",
            "trainertribe.content.v1.ContentService",
        )
    },
    ServiceSpec {
        database: Some("tribe_messaging"),
        surface: Some(&tribe_messaging::policy::SURFACE),
        // Existence checks and summaries of conversation partners (BatchGetUsers).
        calls: &["user"],
        // Conversations, messages, receipts.
        cql_store: true,
        ..spec(
            "messaging",
            "tribe-messaging",
            50053,
            "TRIBE_MESSAGING",
            "trainertribe.messaging.v1.MessagingService",
        )
    },
    ServiceSpec {
        database: Some("tribe_payment"),
        surface: Some(&tribe_payment::policy::SURFACE),
        // A fresh local mesh has something to subscribe to.
        local_env: &[("TRIBE_PAYMENT_DEFAULT_PLANS", "true")],
        ..spec(
            "payment",
            "tribe-payment",
            50056,
            "TRIBE_PAYMENT",
            "trainertribe.payment.v1.PaymentService",
        )
    },
    ServiceSpec {
        database: Some("tribe_fitness"),
        surface: Some(&tribe_fitness::policy::SURFACE),
        // Creator summaries and time zones (BatchGetUsers, BatchGetTimeZones) and
        // premium entitlements (GetEntitlement).
        calls: &["user", "payment"],
        ..spec(
            "fitness",
            "tribe-fitness",
            50054,
            "TRIBE_FITNESS",
            "trainertribe.fitness.v1.FitnessService",
        )
    },
    ServiceSpec {
        database: Some("tribe_support"),
        ..spec(
            "support",
            "tribe-support",
            50055,
            "TRIBE_SUPPORT",
            "trainertribe.support.v1.SupportService",
        )
    },
    ServiceSpec {
        database: Some("tribe_analytics"),
        surface: Some(&tribe_analytics::policy::SURFACE),
        // Authorship of posts whose content events have not been consumed yet.
        calls: &["content"],
        ..spec(
            "analytics",
            "tribe-analytics",
            50057,
            "TRIBE_ANALYTICS",
            "trainertribe.analytics.v1.AnalyticsService",
        )
    },
];

impl ServiceSpec {
    pub fn by_name(name: &str) -> Option<&'static ServiceSpec> {
        SERVICES.iter().find(|s| s.name == name)
    }

    /// 127.0.0.1:<port>.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its migrations directory under the workspace.
    pub fn migrations_dir(&self, root: &Path) -> PathBuf {
        root.join("migrations").join(self.name)
    }

    /// The edge's view of this service listening on `addr`, from its crate's surface;
    /// `None` for a service without a crate.
    pub fn upstream(&self, addr: SocketAddr) -> Option<Upstream> {
        self.surface
            .map(|surface| Upstream::for_surface(surface, addr))
    }
}

/// What `cargo metadata` says about the workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    pub root: PathBuf,
    pub target_dir: PathBuf,
    pub packages: Vec<String>,
}

impl Workspace {
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let out =
            std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "metadata",
                    "--format-version",
                    "1",
                    "--no-deps",
                    "--offline",
                ])
                .current_dir(root)
                .stderr(std::process::Stdio::inherit())
                .output()
                .context("run cargo metadata")?;
        anyhow::ensure!(out.status.success(), "cargo metadata failed");
        let meta: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("parse cargo metadata")?;
        let target_dir = meta["target_directory"]
            .as_str()
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let packages = meta["packages"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter_map(|p| p["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            root: root.to_path_buf(),
            target_dir,
            packages,
        })
    }

    pub fn has(&self, spec: &ServiceSpec) -> bool {
        self.packages.iter().any(|p| p == spec.package)
    }

    /// The services whose crates exist in this workspace.
    pub fn present(&self) -> Vec<&'static ServiceSpec> {
        SERVICES.iter().filter(|s| self.has(s)).collect()
    }

    /// Where `cargo build [--release]` puts a service's binary.
    pub fn binary(&self, spec: &ServiceSpec, release: bool) -> PathBuf {
        self.target_dir
            .join(if release { "release" } else { "debug" })
            .join(spec.package)
    }
}

#[cfg(test)]
mod tests {
    use super::SERVICES;

    #[test]
    fn every_service_has_its_own_port_prefix_database_and_proto_package() {
        for (i, a) in SERVICES.iter().enumerate() {
            assert_eq!(a.package, format!("tribe-{}", a.name));
            assert_eq!(a.env_prefix, format!("TRIBE_{}", a.name.to_uppercase()));
            assert_eq!(a.database, Some(format!("tribe_{}", a.name)).as_deref());
            assert!(
                a.grpc_service
                    .starts_with(&format!("trainertribe.{}.v1.", a.name))
            );
            for b in &SERVICES[i + 1..] {
                assert_ne!(a.port, b.port);
            }
            for called in a.calls {
                let position = SERVICES.iter().position(|s| s.name == *called);
                assert!(
                    position.is_some_and(|p| p < i),
                    "{} calls {called}, which must be an earlier service",
                    a.name
                );
            }
        }
    }
}
