//! Typed configuration from the environment (`TRIBE_<DOMAIN>_...` and shared `TRIBE_...`
//! variables), validated at startup so a bad value fails fast with its variable's name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use secrecy::SecretBox;
pub use secrecy::{ExposeSecret, SecretString};

/// Reads an optional variable; empty counts as unset.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Reads and parses a variable, falling back to `default` when unset.
pub fn parse_or<T: FromStr>(name: &str, default: T) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        Some(raw) => raw.parse().map_err(|e| anyhow!("{name}={raw:?}: {e}")),
        None => Ok(default),
    }
}

/// Reads a required variable.
pub fn required(name: &str) -> anyhow::Result<String> {
    var(name).with_context(|| format!("{name} must be set"))
}

/// Durations as "250ms", "5s", "2m", "1h".
pub fn duration_or(name: &str, default: Duration) -> anyhow::Result<Duration> {
    match var(name) {
        Some(raw) => parse_duration(&raw).with_context(|| format!("{name}={raw:?}")),
        None => Ok(default),
    }
}

pub fn parse_duration(raw: &str) -> anyhow::Result<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (num, unit) = raw.split_at(split);
    let n: u64 = num
        .parse()
        .context("expected a number followed by ms, s, m or h")?;
    Ok(match unit {
        "ms" => Duration::from_millis(n),
        "s" | "" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        other => return Err(anyhow!("unknown unit {other:?}")),
    })
}

/// `TRIBE_PAGE_TOKEN_SECRET`: the page-token MAC key shared by a service's instances (at
/// least 32 characters); random per process when unset, so tokens die with a restart.
pub fn page_token_secret() -> anyhow::Result<PageSecret> {
    match var("TRIBE_PAGE_TOKEN_SECRET") {
        Some(secret) => {
            anyhow::ensure!(
                secret.len() >= 32,
                "TRIBE_PAGE_TOKEN_SECRET must be at least 32 characters"
            );
            Ok(PageSecret::new(secret.into_bytes()))
        }
        None => {
            tracing::warn!("TRIBE_PAGE_TOKEN_SECRET unset: page tokens will not survive a restart");
            Ok(PageSecret::random())
        }
    }
}

/// The page-token MAC key: never printed by `Debug`.
#[derive(Clone)]
pub struct PageSecret(std::sync::Arc<SecretBox<[u8]>>);

impl PageSecret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(std::sync::Arc::new(SecretBox::from(
            bytes.into_boxed_slice(),
        )))
    }

    /// 32 random bytes (tests, and processes without `TRIBE_PAGE_TOKEN_SECRET`).
    pub fn random() -> Self {
        Self::new(rand::random::<[u8; 32]>().to_vec())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for PageSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageSecret([redacted])")
    }
}

/// Settings every gRPC server shares; `prefix` is e.g. "TRIBE_USER".
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `<PREFIX>_LISTEN_ADDR`, e.g. 127.0.0.1:50051 (port 0 picks a free port).
    pub listen_addr: SocketAddr,
    /// `<PREFIX>_REQUEST_TIMEOUT`: upper bound for unary calls (default 10s).
    pub request_timeout: Duration,
    /// `<PREFIX>_MAX_CONCURRENT`: in-flight calls before new ones are shed (default 1024).
    pub max_concurrent: usize,
    /// `<PREFIX>_MAX_MESSAGE_BYTES`: largest request or response message (default 4 MiB).
    pub max_message_bytes: usize,
    /// `<PREFIX>_DRAIN_DELAY`: how long to keep serving after SIGTERM while reporting
    /// NOT_SERVING, so load balancers stop routing first (default 2s).
    pub drain_delay: Duration,
    /// `<PREFIX>_DRAIN_TIMEOUT`: longest wait for in-flight calls afterwards (default 20s).
    pub drain_timeout: Duration,
}

impl ServerConfig {
    pub fn from_env(prefix: &str, default_addr: &str) -> anyhow::Result<Self> {
        Ok(Self {
            listen_addr: parse_or(&format!("{prefix}_LISTEN_ADDR"), default_addr.parse()?)?,
            request_timeout: duration_or(
                &format!("{prefix}_REQUEST_TIMEOUT"),
                Duration::from_secs(10),
            )?,
            max_concurrent: parse_or(&format!("{prefix}_MAX_CONCURRENT"), 1024)?,
            max_message_bytes: parse_or(&format!("{prefix}_MAX_MESSAGE_BYTES"), 4 * 1024 * 1024)?,
            drain_delay: duration_or(&format!("{prefix}_DRAIN_DELAY"), Duration::from_secs(2))?,
            drain_timeout: duration_or(
                &format!("{prefix}_DRAIN_TIMEOUT"),
                Duration::from_secs(20),
            )?,
        })
    }

    /// Defaults for tests: port 0, short drain.
    pub fn for_tests() -> Self {
        Self {
            listen_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            request_timeout: Duration::from_secs(10),
            max_concurrent: 1024,
            max_message_bytes: 4 * 1024 * 1024,
            drain_delay: Duration::from_millis(300),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// How services verify tokens: shared by every service.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `TRIBE_JWKS_FILE`: the JWKS with the user issuer's and the services' public keys.
    pub jwks_file: PathBuf,
    /// `TRIBE_JWT_ISSUER` (default "trainertribe").
    pub issuer: String,
    /// `TRIBE_JWT_AUDIENCE` (default "trainertribe-api").
    pub audience: String,
}

impl AuthConfig {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            jwks_file: required("TRIBE_JWKS_FILE")?.into(),
            issuer: var("TRIBE_JWT_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.into()),
            audience: var("TRIBE_JWT_AUDIENCE").unwrap_or_else(|| DEFAULT_AUDIENCE.into()),
        })
    }
}

pub const DEFAULT_ISSUER: &str = "trainertribe";
pub const DEFAULT_AUDIENCE: &str = "trainertribe-api";

/// Kafka settings: `TRIBE_KAFKA_BROKERS` (default 127.0.0.1:9092) and
/// `TRIBE_KAFKA_TOPIC_SUFFIX` (tests isolate themselves with a suffix).
#[derive(Debug, Clone)]
pub struct KafkaConfig {
    pub brokers: String,
    pub topic_suffix: String,
}

impl KafkaConfig {
    pub fn from_env() -> Self {
        Self {
            brokers: var("TRIBE_KAFKA_BROKERS").unwrap_or_else(|| "127.0.0.1:9092".into()),
            topic_suffix: var("TRIBE_KAFKA_TOPIC_SUFFIX").unwrap_or_default(),
        }
    }

    /// The concrete topic name for a logical topic ("tribe.user.v1").
    pub fn topic(&self, logical: &str) -> String {
        format!("{logical}{}", self.topic_suffix)
    }
}

/// How the domain topics are laid out when they are created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicLayout {
    /// Partitions per topic; events are keyed by aggregate id, so this bounds how many
    /// consumers of one group share a topic.
    pub partitions: i32,
    /// Replicas per partition: 1 on a single local broker, 3 in production (with
    /// `min.insync.replicas=2` on the brokers, so `acks=all` survives one broker down).
    pub replication: i32,
}

impl TopicLayout {
    /// One partition, one replica: what a test's private topics need.
    pub const SINGLE: TopicLayout = TopicLayout {
        partitions: 1,
        replication: 1,
    };

    /// `TRIBE_KAFKA_PARTITIONS` (default 6) and `TRIBE_KAFKA_REPLICATION` (default 1).
    pub fn from_env() -> anyhow::Result<Self> {
        let layout = Self {
            partitions: parse_or("TRIBE_KAFKA_PARTITIONS", 6)?,
            replication: parse_or("TRIBE_KAFKA_REPLICATION", 1)?,
        };
        anyhow::ensure!(
            layout.partitions >= 1,
            "TRIBE_KAFKA_PARTITIONS must be at least 1"
        );
        anyhow::ensure!(
            layout.replication >= 1,
            "TRIBE_KAFKA_REPLICATION must be at least 1"
        );
        Ok(layout)
    }
}

/// A service's PostgreSQL database: `<PREFIX>_DATABASE_URL` (default
/// postgres://postgres@127.0.0.1:5432/<default_name>), `<PREFIX>_DB_MAX_CONNECTIONS` (20)
/// and `<PREFIX>_MIGRATE` (true: apply the kit's and the service's migrations at startup).
/// The URL may hold a password, so it is a secret: `Debug` never prints it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    pub max_connections: u32,
    pub migrate: bool,
}

impl DatabaseConfig {
    pub fn from_env(prefix: &str, default_name: &str) -> anyhow::Result<Self> {
        let url = var(&format!("{prefix}_DATABASE_URL"))
            .unwrap_or_else(|| format!("postgres://postgres@127.0.0.1:5432/{default_name}"));
        Ok(Self {
            url: url.into(),
            max_connections: parse_or(&format!("{prefix}_DB_MAX_CONNECTIONS"), 20)?,
            migrate: parse_or(&format!("{prefix}_MIGRATE"), true)?,
        })
    }

    /// A test database: 20 connections, migrations applied.
    pub fn for_tests(url: &str) -> Self {
        Self {
            url: url.to_string().into(),
            max_connections: 20,
            migrate: true,
        }
    }
}

/// Redis, shared by the services: `TRIBE_REDIS_URL` (default redis://127.0.0.1:6379) and
/// the service's key prefix `<PREFIX>_REDIS_PREFIX` (default `tribe:<service>:`).
#[derive(Debug, Clone)]
pub struct RedisConfig {
    pub url: SecretString,
    pub prefix: String,
}

impl RedisConfig {
    pub fn from_env(prefix: &str, service: &str) -> Self {
        Self {
            url: var("TRIBE_REDIS_URL")
                .unwrap_or_else(|| "redis://127.0.0.1:6379".into())
                .into(),
            prefix: var(&format!("{prefix}_REDIS_PREFIX"))
                .unwrap_or_else(|| format!("tribe:{service}:")),
        }
    }

    pub fn for_tests(url: &str, prefix: &str) -> Self {
        Self {
            url: url.to_string().into(),
            prefix: prefix.into(),
        }
    }
}

/// Which background work this process runs, so one deployment can split API pods from
/// workers: `<PREFIX>_OUTBOX_RELAY` (true: publish this service's outbox to Kafka) and
/// `<PREFIX>_CONSUME_EVENTS` (true: run the service's event consumers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerConfig {
    pub outbox_relay: bool,
    pub consume_events: bool,
}

impl WorkerConfig {
    pub fn from_env(prefix: &str) -> anyhow::Result<Self> {
        Ok(Self {
            outbox_relay: parse_or(&format!("{prefix}_OUTBOX_RELAY"), true)?,
            consume_events: parse_or(&format!("{prefix}_CONSUME_EVENTS"), true)?,
        })
    }

    /// Everything on.
    pub const ALL: WorkerConfig = WorkerConfig {
        outbox_relay: true,
        consume_events: true,
    };
}

/// `TRIBE_SERVICE_KEY_FILE`: the ES256 key this service signs its internal calls with
/// (its kid starts with `svc.<service>.`); unset when the service calls no other service.
pub fn service_key_file() -> Option<PathBuf> {
    var("TRIBE_SERVICE_KEY_FILE").map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_debug_output() {
        let database =
            DatabaseConfig::for_tests("postgres://app:hunter2@db.internal:5432/tribe_user");
        let redis = RedisConfig::for_tests("redis://:s3cret@cache.internal:6379", "tribe:user:");
        let page = PageSecret::new(b"page token secret of enough length!".to_vec());
        let printed = format!("{database:?} {redis:?} {page:?}");
        for secret in ["hunter2", "s3cret", "page token secret"] {
            assert!(!printed.contains(secret), "{secret} printed in {printed}");
        }
        assert_eq!(
            database.url.expose_secret(),
            "postgres://app:hunter2@db.internal:5432/tribe_user"
        );
        assert_eq!(page.expose(), b"page token secret of enough length!");
    }
}
