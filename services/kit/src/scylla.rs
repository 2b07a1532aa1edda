//! CQL sessions of the ScyllaDB-backed stores (content timelines, messaging): connecting
//! to the configured nodes, creating the keyspace, applying a
//! `migrations/scylla/<domain>/*.cql` schema, preparing statements, and mapping driver
//! errors onto [`ApiError`] — an unreachable or timed-out cluster is UNAVAILABLE, like an
//! unreachable PostgreSQL, never INTERNAL.
//!
//! Production runs ScyllaDB; the local mesh and the tests run Apache Cassandra 5.0, which
//! speaks the same CQL protocol to the same `scylla` driver. Where the two differ for what
//! this module does, the comment at that spot says so (see also the services' READMEs).

use std::time::Duration;

use ::scylla::client::execution_profile::ExecutionProfile;
use ::scylla::client::session::Session;
use ::scylla::client::session_builder::SessionBuilder;
use ::scylla::errors::{
    ConnectionPoolError, DbError, ExecutionError, MetadataError, NewSessionError, PrepareError,
    RequestAttemptError, UseKeyspaceError,
};
use ::scylla::statement::prepared::PreparedStatement;
use ::scylla::statement::unprepared::Statement;
use ::scylla::statement::{Consistency, SerialConsistency};

use crate::ApiError;

/// Where and how a store keeps its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CqlConfig {
    /// Contact points, `host:port` (`TRIBE_SCYLLA_NODES`, comma separated).
    pub nodes: Vec<String>,
    /// The store's keyspace, created if missing.
    pub keyspace: String,
    /// Replication factor used when the keyspace is created (3 in production, 1 for a
    /// single local node); an existing keyspace is left as it is.
    pub replication: u32,
    /// Client-side limit of one request (`TRIBE_SCYLLA_REQUEST_TIMEOUT`), so a cluster
    /// that stops answering fails a call with UNAVAILABLE instead of holding it for the
    /// driver's default 30 s. (ScyllaDB also has a per-statement `USING TIMEOUT`, a
    /// ScyllaDB-only CQL extension Cassandra rejects; the client-side limit works on both.)
    pub request_timeout: Duration,
}

/// The default of `TRIBE_SCYLLA_REQUEST_TIMEOUT`: below the services' 10 s RPC timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(3);

impl CqlConfig {
    /// A service's CQL store settings, or `None` (its PostgreSQL store) when
    /// `TRIBE_SCYLLA_NODES` is unset or empty: the cluster's `TRIBE_SCYLLA_NODES` and
    /// `TRIBE_SCYLLA_REQUEST_TIMEOUT` (default 3 s), the service's own
    /// `<PREFIX>_SCYLLA_KEYSPACE` (default `default_keyspace`) and
    /// `<PREFIX>_SCYLLA_REPLICATION` (default 3, a production cluster; 1 for one local node).
    pub fn from_env(prefix: &str, default_keyspace: &str) -> anyhow::Result<Option<Self>> {
        let nodes = crate::config::var("TRIBE_SCYLLA_NODES")
            .map(|n| parse_nodes(&n))
            .unwrap_or_default();
        if nodes.is_empty() {
            return Ok(None);
        }
        let replication: u32 = crate::config::parse_or(&format!("{prefix}_SCYLLA_REPLICATION"), 3)?;
        anyhow::ensure!(
            replication >= 1,
            "{prefix}_SCYLLA_REPLICATION must be at least 1"
        );
        Ok(Some(Self {
            nodes,
            keyspace: crate::config::var(&format!("{prefix}_SCYLLA_KEYSPACE"))
                .unwrap_or_else(|| default_keyspace.into()),
            replication,
            request_timeout: crate::config::duration_or(
                "TRIBE_SCYLLA_REQUEST_TIMEOUT",
                DEFAULT_REQUEST_TIMEOUT,
            )?,
        }))
    }
}

/// Schema changes wait for schema agreement; Cassandra takes 1-3 s per keyspace on a
/// small machine, far more than a data request may.
const DDL_TIMEOUT: Duration = Duration::from_secs(60);

/// `a:9042, b:9042` → `["a:9042", "b:9042"]`; empty entries are dropped.
pub fn parse_nodes(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(String::from)
        .collect()
}

/// Connects, creates the keyspace if missing, makes it the session's keyspace (so the
/// schema and statements name tables unqualified) and applies `schema`.
///
/// The driver learns the cluster's nodes from `system.local`/`system.peers` and connects
/// to those addresses, keeping the port it reached the contact point on. A single
/// contact point on the node's own `rpc_address` (a local node, or a TCP proxy on the
/// same IP, as the fault tests use) is therefore what it keeps talking to. ScyllaDB also
/// advertises a shard-aware port (19042) that the driver would use for per-shard
/// connections; Cassandra has none. Behind NAT or a proxy on another address an
/// `AddressTranslator` would be needed.
pub async fn connect(config: &CqlConfig, schema: &str) -> anyhow::Result<Session> {
    let keyspace = config.keyspace.as_str();
    anyhow::ensure!(
        !keyspace.is_empty()
            && keyspace.len() <= 48
            && keyspace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "bad keyspace name {keyspace:?} (1-48 letters, digits, underscores)"
    );
    anyhow::ensure!(
        config.replication >= 1,
        "replication factor must be at least 1"
    );
    anyhow::ensure!(!config.nodes.is_empty(), "no CQL nodes configured");
    let profile = ExecutionProfile::builder()
        .request_timeout(Some(config.request_timeout))
        .consistency(Consistency::LocalQuorum)
        .serial_consistency(Some(SerialConsistency::LocalSerial))
        .build();
    let session = SessionBuilder::new()
        .known_nodes(&config.nodes)
        .connection_timeout(config.request_timeout)
        .default_execution_profile_handle(profile.into_handle())
        // Only this store's keyspace: a shared test cluster holds hundreds of keyspaces
        // whose metadata would be fetched on every refresh otherwise.
        .keyspaces_to_fetch([keyspace])
        .build()
        .await
        .map_err(|err| anyhow::Error::from(ApiError::from(err)))
        .map_err(|err| err.context(format!("connect to CQL nodes {:?}", config.nodes)))?;
    // NetworkTopologyStrategy with a plain replication_factor (applied to every data
    // centre) is accepted by ScyllaDB and by Cassandra 4.0 and later. ScyllaDB releases
    // that create keyspaces with tablets must support LWT on them (messaging uses LWTs)
    // or get `AND tablets = {'enabled': false}`, a ScyllaDB-only option Cassandra
    // rejects, so it is not sent here.
    ddl(
        &session,
        format!(
            "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = \
             {{'class': 'NetworkTopologyStrategy', 'replication_factor': {}}}",
            config.replication
        ),
    )
    .await?;
    session
        .use_keyspace(keyspace, false)
        .await
        .map_err(|err| anyhow::Error::from(ApiError::from(err)).context("use keyspace"))?;
    for statement in schema_statements(schema) {
        ddl(&session, statement).await?;
    }
    Ok(session)
}

async fn ddl(session: &Session, cql: String) -> anyhow::Result<()> {
    let mut statement = Statement::new(cql.clone());
    statement.set_request_timeout(Some(DDL_TIMEOUT));
    session.query_unpaged(statement, ()).await.map_err(|err| {
        anyhow::Error::from(ApiError::from(err)).context(format!("CQL schema: {cql}"))
    })?;
    Ok(())
}

/// The statements of a CQL schema file: whole-line `--` comments are dropped first (they
/// may contain ';'), then the text is split on ';'. Statements themselves must not
/// contain ';' inside string literals.
pub fn schema_statements(schema: &str) -> Vec<String> {
    let code: String = schema
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| format!("{l}\n"))
        .collect();
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Prepares `cql` with a consistency and whether it is safe to retry (the driver only
/// retries or speculates idempotent statements). Serial consistency is LOCAL_SERIAL for
/// every statement: lightweight transactions need one (ScyllaDB and Cassandra alike), and
/// it is ignored by the others.
pub async fn prepare(
    session: &Session,
    cql: &str,
    consistency: Consistency,
    idempotent: bool,
) -> anyhow::Result<PreparedStatement> {
    let mut statement = session.prepare(cql).await.map_err(|err| {
        anyhow::Error::from(ApiError::from(err)).context(format!("prepare {cql}"))
    })?;
    statement.set_consistency(consistency);
    statement.set_serial_consistency(Some(SerialConsistency::LocalSerial));
    statement.set_is_idempotent(idempotent);
    Ok(statement)
}

/// Turns a driver result into the stores' `anyhow` results while keeping what the error
/// means: an unavailable cluster stays UNAVAILABLE through `ApiError::from(anyhow)`.
pub trait CqlResultExt<T> {
    fn cql(self) -> anyhow::Result<T>;
}

impl<T, E: Into<ApiError>> CqlResultExt<T> for Result<T, E> {
    fn cql(self) -> anyhow::Result<T> {
        self.map_err(|err| anyhow::Error::from(err.into()))
    }
}

fn unavailable(err: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %err, "CQL cluster unavailable");
    ApiError::unavailable("DATABASE_UNAVAILABLE", "database unavailable, retry")
}

/// Errors of one request attempt that mean "the cluster cannot answer now" rather than
/// "this request is wrong".
fn attempt_unavailable(err: &RequestAttemptError) -> bool {
    match err {
        RequestAttemptError::UnableToAllocStreamId
        | RequestAttemptError::BrokenConnectionError(_) => true,
        RequestAttemptError::DbError(db, _) => matches!(
            db,
            DbError::Unavailable { .. }
                | DbError::Overloaded
                | DbError::IsBootstrapping
                | DbError::ReadTimeout { .. }
                | DbError::WriteTimeout { .. }
                | DbError::RateLimitReached { .. }
        ),
        _ => false,
    }
}

fn pool_or_metadata_unavailable(err: &MetadataError) -> bool {
    matches!(
        err,
        MetadataError::ConnectionPoolError(_) | MetadataError::FetchError(_)
    )
}

fn prepare_unavailable(err: &PrepareError) -> bool {
    match err {
        PrepareError::ConnectionPoolError(_) => true,
        PrepareError::AllAttemptsFailed { first_attempt } => attempt_unavailable(first_attempt),
        _ => false,
    }
}

fn use_keyspace_unavailable(err: &UseKeyspaceError) -> bool {
    match err {
        UseKeyspaceError::RequestError(attempt) => attempt_unavailable(attempt),
        UseKeyspaceError::RequestTimeout(_) => true,
        _ => false,
    }
}

impl From<ExecutionError> for ApiError {
    fn from(err: ExecutionError) -> Self {
        let transient = match &err {
            // No live connection to any node of the plan, or none answered in time.
            ExecutionError::ConnectionPoolError(_)
            | ExecutionError::EmptyPlan
            | ExecutionError::RequestTimeout(_) => true,
            ExecutionError::LastAttemptError(attempt) => attempt_unavailable(attempt),
            ExecutionError::PrepareError(prepare) => prepare_unavailable(prepare),
            ExecutionError::UseKeyspaceError(use_keyspace) => {
                use_keyspace_unavailable(use_keyspace)
            }
            ExecutionError::MetadataError(metadata) => pool_or_metadata_unavailable(metadata),
            ExecutionError::SchemaAgreementError(_) => true,
            _ => false,
        };
        if transient {
            unavailable(&err)
        } else {
            ApiError::internal(err)
        }
    }
}

impl From<PrepareError> for ApiError {
    fn from(err: PrepareError) -> Self {
        if prepare_unavailable(&err) {
            unavailable(&err)
        } else {
            ApiError::internal(err)
        }
    }
}

impl From<UseKeyspaceError> for ApiError {
    fn from(err: UseKeyspaceError) -> Self {
        if use_keyspace_unavailable(&err) {
            unavailable(&err)
        } else {
            ApiError::internal(err)
        }
    }
}

impl From<NewSessionError> for ApiError {
    fn from(err: NewSessionError) -> Self {
        let transient = match &err {
            NewSessionError::FailedToResolveAnyHostname(_) => true,
            NewSessionError::MetadataError(metadata) => pool_or_metadata_unavailable(metadata),
            NewSessionError::UseKeyspaceError(use_keyspace) => {
                use_keyspace_unavailable(use_keyspace)
            }
            _ => false,
        };
        if transient {
            unavailable(&err)
        } else {
            ApiError::internal(err)
        }
    }
}

impl From<ConnectionPoolError> for ApiError {
    fn from(err: ConnectionPoolError) -> Self {
        unavailable(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn an_unreachable_or_slow_cluster_is_unavailable_and_a_bad_statement_internal() {
        let timeout = ApiError::from(ExecutionError::RequestTimeout(Duration::from_secs(3)));
        assert_eq!(timeout.code(), Code::Unavailable);
        let pool = ApiError::from(ExecutionError::ConnectionPoolError(
            ConnectionPoolError::Initializing,
        ));
        assert_eq!(pool.code(), Code::Unavailable);
        let replicas = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Unavailable {
                consistency: Consistency::LocalQuorum,
                required: 2,
                alive: 1,
            },
            "not enough replicas".into(),
        ));
        assert_eq!(ApiError::from(replicas).code(), Code::Unavailable);
        let syntax = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::SyntaxError,
            "line 1".into(),
        ));
        assert_eq!(ApiError::from(syntax).code(), Code::Internal);
    }

    #[test]
    fn unavailable_survives_the_stores_anyhow_seam() {
        let from_store: anyhow::Result<()> =
            Err(ExecutionError::RequestTimeout(Duration::from_secs(1))).cql();
        let err = from_store
            .map_err(|e| e.context("read home timeline"))
            .unwrap_err();
        assert_eq!(ApiError::internal(err).code(), Code::Unavailable);
    }

    #[test]
    fn schema_files_split_into_statements_without_comments() {
        let schema = "-- a comment; with a semicolon\nCREATE TABLE a (x int PRIMARY KEY);\n\n-- b\nCREATE TABLE b (\n  y int PRIMARY KEY\n) WITH comment = 'b';\n";
        assert_eq!(
            schema_statements(schema),
            vec![
                "CREATE TABLE a (x int PRIMARY KEY)",
                "CREATE TABLE b (\n  y int PRIMARY KEY\n) WITH comment = 'b'"
            ]
        );
        assert_eq!(parse_nodes(" a:9042, ,b:9042 "), vec!["a:9042", "b:9042"]);
    }
}
