//! `tribe migrate`: creates each service's database if missing and applies the SQL
//! migrations in `migrations/<service>/` (read at run time, not compiled in).

use std::path::Path;

use anyhow::Context;
use sqlx::migrate::Migrator;

use crate::services::{SERVICES, ServiceSpec, Workspace};
use crate::ui;

/// The PostgreSQL server: `$TRIBE_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432.
pub fn server_url() -> String {
    tribe_kit::config::var("TRIBE_POSTGRES_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".into())
        .trim_end_matches('/')
        .to_string()
}

/// The database URL of a service.
pub fn database_url(spec: &ServiceSpec) -> Option<String> {
    spec.database.map(|db| format!("{}/{db}", server_url()))
}

/// The services that need a database now: their crate exists or they have migrations.
pub fn services_to_migrate(workspace: &Workspace) -> Vec<&'static ServiceSpec> {
    SERVICES
        .iter()
        .filter(|s| {
            s.database.is_some() && (workspace.has(s) || s.migrations_dir(&workspace.root).is_dir())
        })
        .collect()
}

/// Creates and migrates every database of `services`, printing progress.
pub async fn run(root: &Path, services: &[&'static ServiceSpec]) -> anyhow::Result<()> {
    ui::step(format!(
        "databases and migrations ({})",
        crate::migrate::redacted_server()
    ));
    if services.is_empty() {
        ui::note("no service with a database in this workspace yet");
    }
    for spec in services {
        let (Some(db), Some(url)) = (spec.database, database_url(spec)) else {
            continue;
        };
        let created = tribe_kit::db::ensure_database(&url, db)
            .await
            .with_context(|| format!("create database {db}"))?;
        let dir = spec.migrations_dir(root);
        if !dir.is_dir() {
            ui::ok(format!(
                "{db}: {}; no migrations in {}",
                if created { "created" } else { "exists" },
                dir.display()
            ));
            continue;
        }
        let migrator = Migrator::new(dir.as_path())
            .await
            .with_context(|| format!("read migrations in {}", dir.display()))?;
        let pool = tribe_kit::db::connect(&url, 2).await?;
        let before = applied(&pool).await;
        tribe_kit::db::migrate(&pool, &migrator)
            .await
            .with_context(|| format!("migrate {db}"))?;
        let after = applied(&pool).await;
        pool.close().await;
        // The kit's migrations (its own tables) are applied to every database first.
        let total = tribe_kit::db::KIT_MIGRATOR.iter().count() + migrator.iter().count();
        ui::ok(format!(
            "{db}: {}, {after}/{total} migrations applied ({} new)",
            if created { "created" } else { "exists" },
            after.saturating_sub(before),
        ));
    }
    Ok(())
}

async fn applied(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

fn redacted_server() -> String {
    tribe_kit::db::redact(&server_url())
}
