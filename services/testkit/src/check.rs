//! Assertions and small values every service's tests use: a failed call's code, reason and
//! error domain, the fields of a BadRequest, polling until an asynchronous effect shows,
//! unique names and request ids.

#![allow(clippy::panic)]

use std::future::Future;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Asserts the code and, when given, the `ErrorInfo` reason of a failed call, and that the
/// error names `domain` ("user.trainertribe.dev").
pub fn assert_status(status: &Status, domain: &str, code: Code, reason: Option<&str>) {
    assert_eq!(status.code(), code, "unexpected status: {status:?}");
    if let Some(reason) = reason {
        let details = status.get_error_details();
        let info = details
            .error_info()
            .unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
        assert_eq!(info.reason, reason, "{status:?}");
        assert_eq!(info.domain, domain, "{status:?}");
    }
}

/// The `ErrorInfo` metadata of a failed call (empty when it has none).
pub fn error_metadata(status: &Status) -> std::collections::HashMap<String, String> {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.metadata.clone())
        .unwrap_or_default()
}

/// The fields named by the BadRequest detail of an INVALID_ARGUMENT, in the order given.
pub fn violated_fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    details
        .bad_request()
        .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
        .unwrap_or_default()
}

/// Polls `check` until it returns `Some`, failing the test after `wait`.
pub async fn eventually<T, F, Fut>(wait: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {wait:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls `check` until it holds, failing the test after `wait`.
pub async fn wait_until<F, Fut>(wait: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    eventually(wait, what, || {
        let next = check();
        async move { next.await.then_some(()) }
    })
    .await
}

/// `prefix_` plus eight random hex digits: a handle or name no other test uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// A fresh `request_id` for an idempotent write.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// An update mask naming `paths`.
pub fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|p| p.to_string()).collect(),
    })
}
