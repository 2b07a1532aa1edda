//! The kit's own tables come from its migration set, applied to every service database
//! before the service's own, and databases migrated before the kit owned them keep working.

use tribe_testkit::TestDb;

const SERVICE_SQL: &str = "CREATE TABLE widgets (id bigint PRIMARY KEY);\n";
/// The checksum with which the user service's first migration was applied while it still
/// created the kit's tables (one of `BEFORE_KIT_TABLES`).
const OLD_USER_CHECKSUM: &str = "e0ef1a4124b113c25861639e73c5476b22f4ad59aef94cd928516451287e615692b2f3f2586156c906e7188c60e29a9f";

async fn service_migrator(dir: &std::path::Path) -> sqlx::migrate::Migrator {
    std::fs::write(dir.join("0001_widgets.sql"), SERVICE_SQL).unwrap();
    sqlx::migrate::Migrator::new(dir).await.unwrap()
}

async fn tables(db: &TestDb) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_service_database_gets_the_kit_tables_then_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = service_migrator(dir.path()).await;
    let db = TestDb::empty().await.unwrap();
    tribe_kit::db::migrate(&db.pool, &migrator).await.unwrap();
    assert_eq!(
        tables(&db).await,
        [
            "_sqlx_migrations",
            "idempotency_keys",
            "outbox",
            "processed_events",
            "widgets"
        ]
    );
    // Both sets share the bookkeeping table and neither mistakes the other's versions
    // for missing ones: a second run is a no-op.
    tribe_kit::db::migrate(&db.pool, &migrator).await.unwrap();
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");
}

#[tokio::test]
async fn a_first_migration_applied_before_the_kit_owned_its_tables_is_re_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let migrator = service_migrator(dir.path()).await;
    let db = TestDb::empty().await.unwrap();
    tribe_kit::db::migrate(&db.pool, &migrator).await.unwrap();
    let set_checksum = |hex: &'static str| {
        sqlx::query("UPDATE _sqlx_migrations SET checksum = decode($1, 'hex') WHERE version = 1")
            .bind(hex)
            .execute(&db.pool)
    };

    // As a database migrated by the old user service looks: version 1 under the old checksum.
    set_checksum(OLD_USER_CHECKSUM).await.unwrap();
    tribe_kit::db::migrate(&db.pool, &migrator)
        .await
        .expect("an old first migration is accepted");
    let recorded: Vec<u8> =
        sqlx::query_scalar("SELECT checksum FROM _sqlx_migrations WHERE version = 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let current = migrator
        .iter()
        .find(|m| m.version == 1)
        .unwrap()
        .checksum
        .to_vec();
    assert_eq!(recorded, current, "re-recorded under the current checksum");

    // Any other change to an applied migration still fails loudly.
    set_checksum("00").await.unwrap();
    let err = tribe_kit::db::migrate(&db.pool, &migrator)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("modified"), "{err:#}");
}
