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
    anyhow::ensure!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad database name {name}");
    let admin: PgConnectOptions = url.parse::<PgConnectOptions>()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&admin).await.context("connect to postgres")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)").bind(name).fetch_one(&mut conn).await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE \"{name}\"")).execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(!exists)
}

/// Drops database `name` (tests), terminating its connections.
pub async fn drop_database(url: &str, name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad database name {name}");
    let admin: PgConnectOptions = url.parse::<PgConnectOptions>()?.database("postgres");
    let mut conn = sqlx::PgConnection::connect_with(&admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool, migrator: &Migrator) -> anyhow::Result<()> {
    migrator.run(pool).await.context("run migrations")
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
                Some((cred, rest)) => {
                    Ok(Self { head: head.into(), user: cred.split(':').next().unwrap_or_default().into(), rest: rest.into() })
                }
                None => Ok(Self { head: head.into(), user: String::new(), rest: tail.into() }),
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
