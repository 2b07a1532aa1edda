//! AIP-155 request ids against real PostgreSQL: concurrent duplicates run the effect once
//! and replay one result; reuse with other parameters is refused; keys are per caller.

use tonic::Code;
use tribe_kit::idempotency::{self, Claim};
use tribe_testkit::TestDb;

async fn schema(db: &TestDb) {
    sqlx::raw_sql(
        "CREATE TABLE idempotency_keys (caller_id text NOT NULL, method text NOT NULL, request_id text NOT NULL,
           request_hash bytea NOT NULL, response bytea, created_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (caller_id, method, request_id));
         CREATE TABLE effects (id bigserial PRIMARY KEY, caller text NOT NULL);",
    )
    .execute(&db.pool)
    .await
    .unwrap();
}

/// One "charge": claim the key, perform the effect, store the response, commit.
async fn charge(
    pool: sqlx::PgPool,
    caller: &str,
    key: &str,
    params: &[u8],
) -> Result<Vec<u8>, tribe_kit::ApiError> {
    let mut tx = pool.begin().await?;
    let hash = idempotency::request_hash(params);
    match idempotency::claim(&mut tx, caller, "Charge", key, &hash).await? {
        Claim::Replay(bytes) => Ok(bytes),
        Claim::Fresh => {
            // Hold the key a moment so duplicates really overlap.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            let id: i64 =
                sqlx::query_scalar("INSERT INTO effects (caller) VALUES ($1) RETURNING id")
                    .bind(caller)
                    .fetch_one(&mut *tx)
                    .await?;
            let response = format!("charge-{id}").into_bytes();
            idempotency::complete(&mut tx, caller, "Charge", key, &response).await?;
            tx.commit().await?;
            Ok(response)
        }
    }
}

#[tokio::test]
async fn concurrent_duplicates_run_once_and_replay_the_same_result() {
    let db = TestDb::empty().await.unwrap();
    schema(&db).await;
    let calls = (0..20).map(|_| charge(db.pool.clone(), "alice", "req-1", b"plan=premium"));
    let results: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("every duplicate succeeds"))
        .collect();
    assert!(
        results.windows(2).all(|w| w[0] == w[1]),
        "identical responses"
    );
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(effects, 1, "one effect for twenty calls");

    let reused = charge(db.pool.clone(), "alice", "req-1", b"plan=pro")
        .await
        .unwrap_err();
    assert_eq!(reused.code(), Code::InvalidArgument);
    let other_caller = charge(db.pool.clone(), "bob", "req-1", b"plan=premium")
        .await
        .unwrap();
    assert_ne!(other_caller, results[0], "keys are scoped to the caller");
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(effects, 2);
}

#[tokio::test]
async fn a_failed_attempt_leaves_the_key_free() {
    let db = TestDb::empty().await.unwrap();
    schema(&db).await;
    {
        let mut tx = db.pool.begin().await.unwrap();
        let hash = idempotency::request_hash(b"x");
        assert!(matches!(
            idempotency::claim(&mut tx, "alice", "Charge", "req-2", &hash)
                .await
                .unwrap(),
            Claim::Fresh
        ));
        // Dropped without commit: the dependency failed mid-request.
    }
    let retry = charge(db.pool.clone(), "alice", "req-2", b"x")
        .await
        .unwrap();
    assert!(retry.starts_with(b"charge-"));
}
