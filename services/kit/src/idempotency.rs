//! AIP-155 `request_id` replay, stored in the service's own database inside the same
//! transaction as the effect, so a retry either sees the committed result or redoes the
//! whole thing. Concurrent duplicates serialise on the key's unique index.
//!
//! Each service database has:
//! ```sql
//! CREATE TABLE idempotency_keys (
//!   caller_id text NOT NULL, method text NOT NULL, request_id text NOT NULL,
//!   request_hash bytea NOT NULL, response bytea,
//!   created_at timestamptz NOT NULL DEFAULT now(),
//!   PRIMARY KEY (caller_id, method, request_id));
//! ```

use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::error::ApiError;

/// How long a stored result is replayed.
pub const RETENTION_HOURS: i64 = 24;

/// The outcome of claiming a key.
#[derive(Debug)]
pub enum Claim {
    /// First use: perform the effect, then call [`complete`] in the same transaction.
    Fresh,
    /// A committed earlier call: return this encoded response unchanged.
    Replay(Vec<u8>),
}

/// Hash of the request's meaningful parameters (prost encoding of the request without
/// its `request_id`), so a reused key with other parameters is detected.
pub fn request_hash(encoded_params: &[u8]) -> Vec<u8> {
    Sha256::digest(encoded_params).to_vec()
}

/// Claims `(caller, method, request_id)` inside the caller's transaction. Blocks while
/// another transaction holds the same uncommitted key.
pub async fn claim(
    conn: &mut PgConnection,
    caller: &str,
    method: &str,
    request_id: &str,
    hash: &[u8],
) -> Result<Claim, ApiError> {
    // An expired key behaves as new.
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE caller_id = $1 AND method = $2 AND request_id = $3
         AND created_at < now() - make_interval(hours => $4::int)",
    )
    .bind(caller)
    .bind(method)
    .bind(request_id)
    .bind(RETENTION_HOURS as i32)
    .execute(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (caller_id, method, request_id, request_hash) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(caller)
    .bind(method)
    .bind(request_id)
    .bind(hash)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(Claim::Fresh);
    }
    let (stored_hash, response): (Vec<u8>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT request_hash, response FROM idempotency_keys WHERE caller_id = $1 AND method = $2 AND request_id = $3")
            .bind(caller)
            .bind(method)
            .bind(request_id)
            .fetch_one(&mut *conn)
            .await?;
    if stored_hash != hash {
        return Err(ApiError::invalid_reason(
            "REQUEST_ID_REUSED",
            "request_id",
            "was already used with different parameters",
        ));
    }
    match response {
        Some(bytes) => Ok(Claim::Replay(bytes)),
        None => Err(ApiError::rejected(
            tonic::Code::Aborted,
            "REQUEST_IN_PROGRESS",
            "the same request is still being processed",
        )),
    }
}

/// Stores the response of a fresh claim; commit the transaction afterwards.
pub async fn complete(
    conn: &mut PgConnection,
    caller: &str,
    method: &str,
    request_id: &str,
    response: &[u8],
) -> Result<(), ApiError> {
    sqlx::query("UPDATE idempotency_keys SET response = $4 WHERE caller_id = $1 AND method = $2 AND request_id = $3")
        .bind(caller)
        .bind(method)
        .bind(request_id)
        .bind(response)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes keys past retention; run periodically.
pub async fn purge_expired(pool: &sqlx::PgPool) -> Result<u64, ApiError> {
    Ok(sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1::int)",
    )
    .bind(RETENTION_HOURS as i32)
    .execute(pool)
    .await?
    .rows_affected())
}
