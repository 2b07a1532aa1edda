//! AIP-155 replay of the create RPCs. `request_id` is optional everywhere: empty means
//! no replay; given, it must be 1-64 visible ASCII characters, a retry with the same key
//! and parameters returns the first result, and other parameters are INVALID_ARGUMENT
//! (REQUEST_ID_REUSED) on `request_id`.

use prost::Message;
use sqlx::PgConnection;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::{ApiError, Violations, ids};

/// The replay key of one create call: the caller, the method, the request_id and a hash
/// of the request's meaningful parameters.
pub(crate) struct Replay<'a> {
    subject: &'a str,
    method: &'a str,
    key: Option<&'a str>,
    hash: Vec<u8>,
}

impl<'a> Replay<'a> {
    /// The replay of `caller`'s call of `method` with `request_id` (a malformed one is
    /// recorded in `v`); `params` are the request's fields that make it the same
    /// request (output-only fields cleared).
    pub(crate) fn new(
        v: &mut Violations,
        caller: &'a UserPrincipal,
        method: &'a str,
        request_id: &'a str,
        params: &impl Message,
    ) -> Self {
        let key = if request_id.is_empty() {
            None
        } else {
            v.check(
                "request_id",
                ids::parse_request_id(request_id)
                    .map_err(|_| "must be 1-64 visible ASCII characters"),
            )
        };
        Self {
            subject: caller.subject(),
            method,
            key,
            hash: idempotency::request_hash(&params.encode_to_vec()),
        }
    }

    /// Claims the key inside the transaction of the write: the first call's response
    /// when this is its retry, `None` when the work is to be done (or no key was given).
    pub(crate) async fn claim<R: Message + Default>(
        &self,
        conn: &mut PgConnection,
    ) -> Result<Option<R>, ApiError> {
        let Some(key) = self.key else {
            return Ok(None);
        };
        match idempotency::claim(conn, self.subject, self.method, key, &self.hash).await? {
            Claim::Fresh => Ok(None),
            Claim::Replay(bytes) => R::decode(bytes.as_slice())
                .map(Some)
                .map_err(ApiError::internal),
        }
    }

    /// Stores `response` for retries, in the transaction that claimed the key.
    pub(crate) async fn complete(
        &self,
        conn: &mut PgConnection,
        response: &impl Message,
    ) -> Result<(), ApiError> {
        match self.key {
            Some(key) => {
                idempotency::complete(
                    conn,
                    self.subject,
                    self.method,
                    key,
                    &response.encode_to_vec(),
                )
                .await
            }
            None => Ok(()),
        }
    }
}
