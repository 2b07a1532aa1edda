//! PostgreSQL pools and database lifecycle (create if missing, migrate).

use std::time::Duration;

use anyhow::Context;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// Connects a pool; `url` like postgres://postgres@127.0.0.1:5432/tribe_user.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().with_context(|| "invalid database URL")?;
    let options = options.log_statements(tracing::log::LevelFilter::Debug);
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("connect to database {}", redact(url)))
}

/// Creates database `name` through the server of `url` if it does not exist.
pub async fn ensure_database(url: &str, name: &str) -> anyhow::Result<bool> {
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "bad database name {name}"
    );
    let admin: PgConnectOptions = url.parse::<PgConnectOptions>()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&admin)
        .await
        .context("connect to postgres")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(!exists)
}

/// Drops database `name` (tests), terminating its connections.
pub async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "bad database name {name}"
    );
    let admin: PgConnectOptions = url.parse::<PgConnectOptions>()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    // Both sets share `_sqlx_migrations`; each ignores the versions of the other.
    let kit = own_versions_only(&KIT_MIGRATOR);
    kit.run(pool).await.context("run the kit's migrations")?;
    rebaseline(pool, migrator).await?;
    own_versions_only(migrator)
        .run(pool)
        .await
        .context("run migrations")
}

/// The kit's tables (`outbox`, `idempotency_keys`, `processed_events`), applied to every
/// service database before the service's own migrations.
pub static KIT_MIGRATOR: Migrator = sqlx::migrate!("./migrations");

fn own_versions_only(migrator: &Migrator) -> Migrator {
    Migrator {
        migrations: migrator.migrations.clone(),
        ignore_missing: true,
        locking: migrator.locking,
        no_tx: migrator.no_tx,
    }
}

/// Checksums (SHA-384, hex) with which the services' first migrations were applied while
/// they still created the kit's tables themselves. Those files were rewritten without the
/// kit's tables when the kit took them over (`KIT_MIGRATOR` creates them IF NOT EXISTS),
/// so a database migrated before that has the same schema under an old checksum: it is
/// re-recorded under the new one instead of failing with "previously applied but modified".
const BEFORE_KIT_TABLES: &[&str] = &[
    "e0ef1a4124b113c25861639e73c5476b22f4ad59aef94cd928516451287e615692b2f3f2586156c906e7188c60e29a9f",
    "0a5407f143a6ba6039b166847d20165bf377c11ef3e434c6fd95c6cd9af32c6ad34d4f097d8eac4729eaceec56ffd1a8",
    "3f5cb92835d32708b0a4d730fb3e8a0ab47a138dc9aa3ce5c8556ddfd314cabcb252a51f5e736a3266595ce0270eb235",
    "2f6f5e5d946edec189bef0aceecd8c73cd077c6a886354ea0ef0fc60afd721e36a520b7f5fbaf94d8c887056e0ac6566",
    "76506d9160f7184adbf8029d0d969993d04edce8e8b72a41babf3ea7294bc04551ee0cc0041c92ea1269082281319763",
];

async fn rebaseline(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    let recorded: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !recorded {
        return Ok(());
    }
    for migration in migrator.iter() {
        let updated = sqlx::query("UPDATE _sqlx_migrations SET checksum = $1 WHERE version = $2 AND encode(checksum, 'hex') = ANY($3)")
            .bind(migration.checksum.as_ref())
            .bind(migration.version)
            .bind(BEFORE_KIT_TABLES)
            .execute(pool)
            .await
            .context("re-record a migration rewritten when the kit took over its tables")?;
        if updated.rows_affected() > 0 {
            tracing::info!(
                version = migration.version,
                "migration re-recorded: its kit tables are now the kit's own migration"
            );
        }
    }
    Ok(())
}

/// The URL with any password removed, for logs.
pub fn redact(url: &str) -> String {
    match url.parse::<url_like::Parts>() {
        Ok(parts) => parts.to_string(),
        Err(()) => "<database url>".into(),
    }
}

mod url_like {
    /// Minimal parse of scheme://user:password@rest, enough to hide the password.
    pub struct Parts {
        head: String,
        user: String,
        rest: String,
    }

    impl std::str::FromStr for Parts {
        type Err = ();

        fn from_str(s: &str) -> Result<Self, ()> {
            let (head, tail) = s.split_once("://").ok_or(())?;
            match tail.split_once('@') {
                Some((cred, rest)) => Ok(Self {
                    head: head.into(),
                    user: cred.split(':').next().unwrap_or_default().into(),
                    rest: rest.into(),
                }),
                None => Ok(Self {
                    head: head.into(),
                    user: String::new(),
                    rest: tail.into(),
                }),
            }
        }
    }

    impl std::fmt::Display for Parts {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            if self.user.is_empty() {
                write!(f, "{}://{}", self.head, self.rest)
            } else {
                write!(f, "{}://{}@{}", self.head, self.user, self.rest)
            }
        }
    }
}
