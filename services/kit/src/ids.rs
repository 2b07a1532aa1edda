//! Ids: time-sortable UUIDv7 in storage, opaque strings on the wire.

use uuid::Uuid;

use crate::error::ApiError;

/// A new time-sortable id.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Parses a wire id; anything but a canonical UUID is INVALID_ARGUMENT on `field`.
pub fn parse_id(field: &str, value: &str) -> Result<Uuid, ApiError> {
    if value.is_empty() {
        return Err(ApiError::invalid_field(field, "is required"));
    }
    Uuid::try_parse(value).map_err(|_| ApiError::invalid_field(field, "is not a valid id"))
}

/// Validates an AIP-155 `request_id`: 1-64 visible ASCII characters.
pub fn parse_request_id(value: &str) -> Result<&str, ApiError> {
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid_field("request_id", "must be 1-64 visible ASCII characters"));
    }
    Ok(value)
}
