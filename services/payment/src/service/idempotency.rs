//! AIP-155 request ids: a mutation runs once per (caller, method, request_id) and its
//! first outcome is replayed, a declined charge included.

use prost::Message;
use tribe_kit::ApiError;
use tribe_kit::idempotency;

use super::charges::{Decline, declined};

/// Hash of a request's parameters: the method and the encoding of the request with its
/// request_id cleared.
pub(super) fn params_hash(method: &str, encoded_without_request_id: &[u8]) -> Vec<u8> {
    let mut data = method.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(encoded_without_request_id);
    idempotency::request_hash(&data)
}

/// An outcome worth replaying: a success, or a declined charge (its FAILED transaction is
/// committed, so the decline is the answer for that key). Stored as a tag byte and the
/// response, or the decline's transaction id, failure code and provider message.
pub(super) fn stored_outcome<R: Message>(outcome: &Result<R, ApiError>) -> Option<Vec<u8>> {
    match outcome {
        Ok(response) => {
            let mut bytes = vec![0u8];
            bytes.extend(response.encode_to_vec());
            Some(bytes)
        }
        Err(err) => {
            let Decline {
                transaction_id,
                failure_code,
                message,
            } = Decline::of(err)?;
            let mut bytes = vec![1u8];
            bytes.extend(format!("{transaction_id}\0{failure_code}\0{message}").into_bytes());
            Some(bytes)
        }
    }
}

pub(super) fn replayed<R: Message + Default>(bytes: &[u8]) -> Result<R, ApiError> {
    match bytes.split_first() {
        Some((0, rest)) => R::decode(rest).map_err(ApiError::internal),
        Some((1, rest)) => {
            let text = String::from_utf8_lossy(rest);
            let mut parts = text.splitn(3, '\0');
            let (t, c, m) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            Err(declined(t, c, m))
        }
        _ => Err(ApiError::internal(anyhow::anyhow!(
            "corrupt idempotency record"
        ))),
    }
}

/// Runs `effect` once per (caller, method, request_id): claims the key in a new
/// transaction, replays a stored outcome, or runs the effect and stores its outcome in
/// the same transaction. Errors other than a decline roll everything back, so a retry
/// redoes the whole call (provider calls are idempotent by their own derived key).
macro_rules! idempotent {
    ($self:ident, $caller:expr, $method:expr, $request_id:expr, $hash:expr, |$tx:ident| $effect:expr) => {{
        let request_id = tribe_kit::ids::parse_request_id($request_id)?.to_string();
        let mut $tx = $self.pool.begin().await?;
        match tribe_kit::idempotency::claim(&mut $tx, $caller, $method, &request_id, &$hash).await?
        {
            tribe_kit::idempotency::Claim::Replay(bytes) => {
                crate::service::idempotency::replayed(&bytes)
            }
            tribe_kit::idempotency::Claim::Fresh => {
                let outcome = $effect;
                if let Some(bytes) = crate::service::idempotency::stored_outcome(&outcome) {
                    tribe_kit::idempotency::complete(
                        &mut $tx,
                        $caller,
                        $method,
                        &request_id,
                        &bytes,
                    )
                    .await?;
                    $tx.commit().await?;
                }
                outcome
            }
        }
    }};
}
pub(super) use idempotent;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decline_replays_as_the_same_error() {
        let decline = declined("0190-tx", "card_declined", "The card was declined.");
        let bytes =
            stored_outcome::<prost_types::Timestamp>(&Err(decline)).expect("a decline is stored");
        assert_eq!(
            bytes, b"\x010190-tx\0card_declined\0The card was declined.",
            "the stored form is unchanged"
        );
        let replay = replayed::<prost_types::Timestamp>(&bytes).expect_err("replays the decline");
        let Some(Decline {
            transaction_id,
            failure_code,
            message,
        }) = Decline::of(&replay)
        else {
            panic!("{replay:?}")
        };
        assert_eq!(
            (transaction_id, failure_code, message),
            ("0190-tx", "card_declined", "The card was declined.")
        );
        assert!(
            stored_outcome::<prost_types::Timestamp>(&Err(ApiError::not_found("plan"))).is_none(),
            "other errors are not"
        );
    }
}
