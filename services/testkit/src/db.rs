//! PostgreSQL and Redis for one test: a database created, migrated and dropped, a Redis
//! key prefix no other test uses.

use sqlx::PgPool;
use sqlx::migrate::Migrator;

/// The PostgreSQL server tests create their databases on.
pub fn postgres_url() -> String {
    std::env::var("TRIBE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TRIBE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A unique Redis key prefix for one test.
pub fn redis_prefix() -> String {
    format!("test:{}:", uuid::Uuid::new_v4().simple())
}

/// Redis for one test: the shared server, a key prefix no other test uses.
pub fn redis_config() -> tribe_kit::config::RedisConfig {
    tribe_kit::config::RedisConfig::for_tests(&redis_url(), &redis_prefix())
}

/// A page-token secret that outlives a service restart within a test.
pub fn page_secret() -> tribe_kit::config::PageSecret {
    tribe_kit::config::PageSecret::new(b"test page token secret of enough length".to_vec())
}

/// A database that exists for one test and is dropped afterwards.
pub struct TestDb {
    pub pool: PgPool,
    pub url: String,
    name: String,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("name", &self.name).finish()
    }
}

impl TestDb {
    /// Creates `test_<uuid>` and applies `migrator`.
    pub async fn create(migrator: &Migrator) -> anyhow::Result<Self> {
        let db = Self::empty().await?;
        tribe_kit::db::migrate(&db.pool, migrator).await?;
        Ok(db)
    }

    /// The service setting for this database: already migrated by `create`.
    pub fn config(&self) -> tribe_kit::config::DatabaseConfig {
        tribe_kit::config::DatabaseConfig {
            migrate: false,
            max_connections: 10,
            ..tribe_kit::config::DatabaseConfig::for_tests(&self.url)
        }
    }

    /// Creates an empty `test_<uuid>` (for tests that bring their own schema).
    pub async fn empty() -> anyhow::Result<Self> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let server = postgres_url();
        tribe_kit::db::ensure_database(&server, &name).await?;
        let url = with_database(&server, &name);
        let pool = tribe_kit::db::connect(&url, 30).await?;
        Ok(Self { pool, url, name })
    }
}

fn with_database(server_url: &str, name: &str) -> String {
    match server_url.rsplit_once('/') {
        Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
            format!("{base}/{name}")
        }
        _ => format!("{server_url}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let server = postgres_url();
        // Drop runs inside the test's runtime, which is blocked while we wait, so the pool
        // (bound to that runtime) is left alone: FORCE terminates its connections.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async move {
                    if let Err(err) = tribe_kit::db::drop_database(&server, &name).await {
                        eprintln!("could not drop test database {name}: {err:#}");
                    }
                });
            }
        })
        .join();
    }
}
