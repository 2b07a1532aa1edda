//! `tribe grant-role` / `revoke-role` against a real user database.

use tribe_mesh::roles::set_role;
use tribe_testkit::TestDb;

#[tokio::test]
async fn grant_and_revoke_roles_by_email() {
    let db = TestDb::create(&tribe_user::MIGRATOR).await.unwrap();
    sqlx::query("INSERT INTO users (id, email, handle, display_name, password_hash) VALUES ($1, 'Ops@Example.com', 'ops', 'Ops', 'x')")
        .bind(uuid::Uuid::now_v7())
        .execute(&db.pool)
        .await
        .unwrap();
    let roles = set_role(&db.pool, "ops@example.com", "admin", true)
        .await
        .unwrap();
    assert_eq!(roles, ["user", "admin"]);
    let again = set_role(&db.pool, "ops@example.com", "admin", true)
        .await
        .unwrap();
    assert_eq!(again, ["user", "admin"], "granting twice changes nothing");
    let revoked = set_role(&db.pool, "OPS@example.com", "admin", false)
        .await
        .unwrap();
    assert_eq!(revoked, ["user"]);
    assert!(
        set_role(&db.pool, "nobody@example.com", "admin", true)
            .await
            .is_err()
    );
    assert!(
        set_role(&db.pool, "ops@example.com", "user", false)
            .await
            .is_err(),
        "the base role is not removable"
    );
    assert!(
        set_role(&db.pool, "ops@example.com", "superuser", true)
            .await
            .is_err()
    );
}
