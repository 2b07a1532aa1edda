//! Field checks shared by challenges and nutrition: texts, URLs and category ids.

use std::collections::HashSet;

use sqlx::PgConnection;
use tribe_kit::{ApiError, Violations};

/// A required text of 1-`max` characters (not only whitespace).
pub(crate) fn required_text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        v.add(field, "is required");
    } else {
        optional_text(v, field, value, max);
    }
}

/// A text of at most `max` characters.
pub(crate) fn optional_text(v: &mut Violations, field: &str, value: &str, max: usize) {
    if value.chars().count() > max {
        v.add(field, format!("must be at most {max} characters"));
    }
}

/// Empty, or an https URL of at most 2048 characters.
pub(crate) fn https_url(v: &mut Violations, field: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let ok = value.len() <= 2048
        && url::Url::parse(value)
            .map(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()))
            .unwrap_or(false);
    if !ok {
        v.add(field, "must be an https URL of at most 2048 characters");
    }
}

/// A known difficulty (UNSPECIFIED allowed).
pub(crate) fn difficulty(v: &mut Violations, field: &str, value: i32) {
    if tribe_proto::fitness::v1::Difficulty::try_from(value).is_err() {
        v.add(field, "unknown difficulty");
    }
}

/// At most five distinct category ids, each one of the catalog's.
pub(crate) async fn categories(
    conn: &mut PgConnection,
    v: &mut Violations,
    field: &str,
    ids: &[String],
) -> Result<(), ApiError> {
    if ids.len() > 5 {
        v.add(field, "at most 5 categories");
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id.as_str()) {
            v.add(format!("{field}[{i}]"), "duplicate category");
        }
    }
    let known = crate::store::challenges::known_categories(conn, ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !known.contains(id) {
            v.add(format!("{field}[{i}]"), "unknown category");
        }
    }
    Ok(())
}

/// The request_id of an optional AIP-155 replay: `None` when empty.
pub(crate) fn request_id<'a>(v: &mut Violations, value: &'a str) -> Option<&'a str> {
    if value.is_empty() {
        return None;
    }
    v.check("request_id", tribe_kit::ids::parse_request_id(value))
}
