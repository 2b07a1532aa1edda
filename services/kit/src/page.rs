//! AIP-158 pagination: page sizes and opaque, tamper-evident page tokens bound to a
//! method, a caller and the request's filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use prost::Message;
use sha2::{Digest, Sha256};
use tribe_proto::r#type::v1::{CursorKey, PageCursor, PageToken, cursor_key};

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
const MAC_LEN: usize = 16;
const MAX_TOKEN_LEN: usize = 2048;

/// 0 = default, capped at the maximum, negative = INVALID_ARGUMENT on `page_size`.
pub fn page_size(requested: i32) -> Result<u32, ApiError> {
    match requested {
        n if n < 0 => Err(ApiError::invalid_field("page_size", "must not be negative")),
        0 => Ok(DEFAULT_PAGE_SIZE),
        n => Ok((n as u32).min(MAX_PAGE_SIZE)),
    }
}

/// One component of a keyset position.
#[derive(Debug, Clone, PartialEq)]
pub enum Key {
    Str(String),
    Int(i64),
    Float(f64),
}

impl Key {
    pub fn as_str(&self) -> Option<&str> {
        if let Key::Str(s) = self {
            Some(s)
        } else {
            None
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        if let Key::Int(i) = self {
            Some(*i)
        } else {
            None
        }
    }

    pub fn as_float(&self) -> Option<f64> {
        if let Key::Float(f) = self {
            Some(*f)
        } else {
            None
        }
    }
}

/// Hashes the filters of a list request; any change in them invalidates its tokens.
#[derive(Debug, Default)]
pub struct FilterHash(Sha256);

impl FilterHash {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        let value = value.as_ref();
        self.0.update((name.len() as u64).to_be_bytes());
        self.0.update(name.as_bytes());
        self.0.update((value.len() as u64).to_be_bytes());
        self.0.update(value);
        self
    }

    pub fn finish(self) -> Vec<u8> {
        self.0.finalize().to_vec()
    }
}

/// Mints and checks page tokens with a per-service secret.
#[derive(Clone)]
pub struct PageTokens {
    secret: Vec<u8>,
}

impl std::fmt::Debug for PageTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PageTokens")
    }
}

/// Where a list continues: the caller-bound context every token is checked against.
#[derive(Debug, Clone, Copy)]
pub struct PageScope<'a> {
    pub method: &'a str,
    pub subject_id: &'a str,
    pub filter_hash: &'a [u8],
}

impl PageTokens {
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            secret: secret.into(),
        }
    }

    /// Tokens under the configured `TRIBE_PAGE_TOKEN_SECRET`.
    pub fn from_secret(secret: &crate::config::PageSecret) -> Self {
        Self::new(secret.expose().to_vec())
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so construction cannot fail.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).unwrap_or_else(|_| unreachable!());
        mac.update(data);
        mac.finalize().into_bytes()[..MAC_LEN].to_vec()
    }

    /// The token for the page after `last_key`.
    pub fn encode(&self, scope: PageScope<'_>, last_key: &[Key]) -> String {
        let cursor = PageCursor {
            method: scope.method.to_string(),
            subject_id: scope.subject_id.to_string(),
            filter_hash: scope.filter_hash.to_vec(),
            last_key: last_key
                .iter()
                .map(|k| CursorKey {
                    value: Some(match k {
                        Key::Str(s) => cursor_key::Value::StringValue(s.clone()),
                        Key::Int(i) => cursor_key::Value::IntValue(*i),
                        Key::Float(f) => cursor_key::Value::DoubleValue(*f),
                    }),
                })
                .collect(),
        };
        let cursor = cursor.encode_to_vec();
        let token = PageToken {
            mac: self.mac(&cursor),
            cursor,
        };
        URL_SAFE_NO_PAD.encode(token.encode_to_vec())
    }

    /// Trims a page fetched with `limit + 1` rows to `limit` and returns the token of the
    /// next page (keyed by the last row kept), or "" when this was the last page.
    pub fn next_token<T>(
        &self,
        scope: PageScope<'_>,
        rows: &mut Vec<T>,
        limit: usize,
        key: impl Fn(&T) -> Vec<Key>,
    ) -> String {
        if rows.len() > limit {
            rows.truncate(limit);
            rows.last()
                .map(|last| self.encode(scope, &key(last)))
                .unwrap_or_default()
        } else {
            String::new()
        }
    }

    /// `None` for the first page; the keyset position otherwise. A token that was forged,
    /// edited, minted for another method or caller, or for other filters is
    /// INVALID_ARGUMENT on `page_token`.
    pub fn decode(&self, scope: PageScope<'_>, token: &str) -> Result<Option<Vec<Key>>, ApiError> {
        if token.is_empty() {
            return Ok(None);
        }
        let bad = |why: &str| ApiError::invalid_field("page_token", why);
        if token.len() > MAX_TOKEN_LEN {
            return Err(bad("page token is too long"));
        }
        let raw = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad("malformed page token"))?;
        let wire = PageToken::decode(raw.as_slice()).map_err(|_| bad("malformed page token"))?;
        let expected = self.mac(&wire.cursor);
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_slice(),
            wire.mac.as_slice(),
        )) {
            return Err(bad("page token was not issued by this service"));
        }
        let cursor =
            PageCursor::decode(wire.cursor.as_slice()).map_err(|_| bad("malformed page token"))?;
        if cursor.method != scope.method || cursor.subject_id != scope.subject_id {
            return Err(bad("page token belongs to another request or caller"));
        }
        if cursor.filter_hash != scope.filter_hash {
            return Err(bad("filters changed since the page token was issued"));
        }
        let keys = cursor
            .last_key
            .into_iter()
            .map(|k| match k.value {
                Some(cursor_key::Value::StringValue(s)) => Ok(Key::Str(s)),
                Some(cursor_key::Value::IntValue(i)) => Ok(Key::Int(i)),
                Some(cursor_key::Value::DoubleValue(f)) => Ok(Key::Float(f)),
                None => Err(bad("malformed page token")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(keys))
    }
}

/// The keyset position of a list ordered by (time, id): microseconds, then the id.
pub fn time_id_keys(at: chrono::DateTime<chrono::Utc>, id: uuid::Uuid) -> Vec<Key> {
    vec![Key::Int(at.timestamp_micros()), Key::Str(id.to_string())]
}

/// Reads back a position written by [`time_id_keys`]; anything else is INVALID_ARGUMENT.
pub fn time_id_cursor(
    keys: Option<Vec<Key>>,
) -> Result<Option<(chrono::DateTime<chrono::Utc>, uuid::Uuid)>, ApiError> {
    let Some(keys) = keys else { return Ok(None) };
    let bad = || ApiError::invalid_field("page_token", "malformed page token");
    match keys.as_slice() {
        [Key::Int(micros), Key::Str(id)] => {
            let at = chrono::DateTime::from_timestamp_micros(*micros).ok_or_else(bad)?;
            Ok(Some((at, uuid::Uuid::parse_str(id).map_err(|_| bad())?)))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope<'a>(subject: &'a str, hash: &'a [u8]) -> PageScope<'a> {
        PageScope {
            method: "/x.v1.S/List",
            subject_id: subject,
            filter_hash: hash,
        }
    }

    #[test]
    fn round_trip_and_binding() {
        let tokens = PageTokens::new(b"secret".to_vec());
        let hash = FilterHash::new().add("q", "abc").finish();
        let token = tokens.encode(
            scope("alice", &hash),
            &[Key::Int(42), Key::Str("id-1".into())],
        );
        let keys = tokens
            .decode(scope("alice", &hash), &token)
            .unwrap()
            .unwrap();
        assert_eq!(keys, vec![Key::Int(42), Key::Str("id-1".into())]);

        let other = FilterHash::new().add("q", "abd").finish();
        assert!(
            tokens.decode(scope("alice", &other), &token).is_err(),
            "changed filter"
        );
        assert!(
            tokens.decode(scope("bob", &hash), &token).is_err(),
            "other caller"
        );
        assert!(
            PageTokens::new(b"other".to_vec())
                .decode(scope("alice", &hash), &token)
                .is_err(),
            "forged"
        );
        let mut tampered = token.clone();
        tampered.replace_range(4..5, if &token[4..5] == "A" { "B" } else { "A" });
        assert!(
            tokens.decode(scope("alice", &hash), &tampered).is_err(),
            "edited"
        );
        assert_eq!(tokens.decode(scope("alice", &hash), "").unwrap(), None);
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(0).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(7).unwrap(), 7);
        assert_eq!(page_size(10_000).unwrap(), MAX_PAGE_SIZE);
        assert_eq!(
            page_size(-1).unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }
}
