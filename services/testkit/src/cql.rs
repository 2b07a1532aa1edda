//! A fresh CQL keyspace per test on the test run's CQL server (`TRIBE_SCYLLA_NODES`;
//! `./mesh/test.sh` starts Apache Cassandra and sets it), dropped when the test ends.
//! A missing server is a test failure, never a skip: the CQL stores run in every run.

use std::time::Duration;

use anyhow::Context;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::statement::unprepared::Statement;
use tribe_kit::scylla::{CqlConfig, parse_nodes};

use crate::proxy::TcpProxy;

/// What a test says when the CQL server of the run is not configured.
pub const NODES_UNSET: &str =
    "TRIBE_SCYLLA_NODES unset: run ./mesh/test.sh, which starts the CQL server";

/// The CQL server of this test run.
pub fn nodes() -> anyhow::Result<Vec<String>> {
    let nodes = std::env::var("TRIBE_SCYLLA_NODES")
        .map(|n| parse_nodes(&n))
        .unwrap_or_default();
    anyhow::ensure!(!nodes.is_empty(), NODES_UNSET);
    Ok(nodes)
}

/// A keyspace `test_<uuid>` that exists for one test: the store under test creates it
/// (replication 1, the run's server is a single node); dropping this drops it.
pub struct TestKeyspace {
    pub name: String,
    pub nodes: Vec<String>,
}

impl std::fmt::Debug for TestKeyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestKeyspace")
            .field("name", &self.name)
            .finish()
    }
}

impl TestKeyspace {
    /// Fails with [`NODES_UNSET`] when the run has no CQL server.
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self {
            name: format!("test_{}", uuid::Uuid::new_v4().simple()),
            nodes: nodes()?,
        })
    }

    /// The store configuration for this keyspace on the run's server.
    pub fn config(&self) -> CqlConfig {
        self.config_via(self.nodes.clone())
    }

    /// The same keyspace reached through other contact points (a proxy in front of the
    /// server).
    pub fn config_via(&self, nodes: Vec<String>) -> CqlConfig {
        // Generous: a shared 2-core machine under a parallel test run answers slowly.
        CqlConfig {
            nodes,
            keyspace: self.name.clone(),
            replication: 1,
            request_timeout: Duration::from_secs(10),
        }
    }

    /// A session of the test's own, straight to the server with this keyspace in use,
    /// for asserting what the store wrote.
    pub async fn session(&self) -> anyhow::Result<Session> {
        let session = SessionBuilder::new()
            .known_nodes(&self.nodes)
            .keyspaces_to_fetch([self.name.as_str()])
            .build()
            .await
            .context("connect to the test CQL server")?;
        session
            .use_keyspace(&self.name, false)
            .await
            .context("use test keyspace")?;
        Ok(session)
    }
}

/// A fresh keyspace whose store reaches the run's CQL server only through a
/// [`TcpProxy`], with a short request timeout so calls fail fast while it is cut. Returns
/// the configuration to give the store.
pub async fn through_proxy() -> anyhow::Result<(TestKeyspace, TcpProxy, CqlConfig)> {
    let keyspace = TestKeyspace::new()?;
    let server = tokio::net::lookup_host(&keyspace.nodes[0])
        .await?
        .next()
        .context("resolve the CQL server")?;
    let proxy = TcpProxy::start(server).await?;
    let mut config = keyspace.config_via(vec![proxy.addr().to_string()]);
    config.request_timeout = Duration::from_secs(2);
    Ok((keyspace, proxy, config))
}

impl Drop for TestKeyspace {
    fn drop(&mut self) {
        let (name, nodes) = (self.name.clone(), self.nodes.clone());
        // Like TestDb: the test's runtime is blocked while we wait, so a runtime of our own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let dropped = async {
                    let session = SessionBuilder::new()
                        .known_nodes(&nodes)
                        .keyspaces_to_fetch(Vec::<String>::new())
                        .build()
                        .await?;
                    let mut drop = Statement::new(format!("DROP KEYSPACE IF EXISTS {name}"));
                    drop.set_request_timeout(Some(Duration::from_secs(60)));
                    session.query_unpaged(drop, ()).await?;
                    anyhow::Ok(())
                };
                if let Err(err) = dropped.await {
                    eprintln!("could not drop test keyspace {name}: {err:#}");
                }
            });
        })
        .join();
    }
}
