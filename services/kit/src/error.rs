//! The one error type every service returns, and its mapping to `tonic::Status` with
//! `ErrorInfo` and `BadRequest` details (AIP-193).

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field of a request, named by its path (`user.handle`, `events[3].type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// An error a caller can act on, or an internal failure whose cause is logged but never
/// returned.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid argument: {message}")]
    InvalidArgument {
        reason: &'static str,
        message: String,
        violations: Vec<FieldViolation>,
    },
    #[error("{code:?} {reason}: {message}")]
    Rejected {
        code: Code,
        reason: &'static str,
        message: String,
        metadata: Vec<(String, String)>,
    },
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// INVALID_ARGUMENT with the given field violations.
    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        let message = match violations.as_slice() {
            [one] => format!("{}: {}", one.field, one.description),
            many => format!("{} invalid fields", many.len()),
        };
        Self::InvalidArgument {
            reason: "INVALID_ARGUMENT",
            message,
            violations,
        }
    }

    /// INVALID_ARGUMENT for a single field.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::invalid(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }])
    }

    /// INVALID_ARGUMENT with a specific machine-readable reason and one field.
    pub fn invalid_reason(reason: &'static str, field: &str, description: &str) -> Self {
        Self::InvalidArgument {
            reason,
            message: description.to_string(),
            violations: vec![FieldViolation {
                field: field.into(),
                description: description.into(),
            }],
        }
    }

    pub fn rejected(code: Code, reason: &'static str, message: impl Into<String>) -> Self {
        Self::Rejected {
            code,
            reason,
            message: message.into(),
            metadata: Vec::new(),
        }
    }

    /// Adds a key to the `ErrorInfo` metadata (a declined charge's transaction id, the
    /// post that was not found), so a client can act without parsing the message.
    /// Only `Rejected` errors carry metadata; on the others this is a no-op.
    pub fn with_info(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Self::Rejected { metadata, .. } = &mut self {
            metadata.push((key.into(), value.into()));
        }
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::rejected(Code::NotFound, "NOT_FOUND", format!("{what} not found"))
    }

    pub fn permission_denied(message: impl Into<String>) -> Self {
        Self::rejected(Code::PermissionDenied, "PERMISSION_DENIED", message)
    }

    pub fn unauthenticated(reason: &'static str, message: impl Into<String>) -> Self {
        Self::rejected(Code::Unauthenticated, reason, message)
    }

    pub fn already_exists(reason: &'static str, message: impl Into<String>) -> Self {
        Self::rejected(Code::AlreadyExists, reason, message)
    }

    pub fn failed_precondition(reason: &'static str, message: impl Into<String>) -> Self {
        Self::rejected(Code::FailedPrecondition, reason, message)
    }

    pub fn exhausted(reason: &'static str, message: impl Into<String>) -> Self {
        Self::rejected(Code::ResourceExhausted, reason, message)
    }

    pub fn unavailable(reason: &'static str, message: impl Into<String>) -> Self {
        Self::rejected(Code::Unavailable, reason, message)
    }

    /// INTERNAL, unless `err` carries an `ApiError` (see `From<anyhow::Error>`).
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::from(err.into())
    }

    /// The gRPC code this error maps to.
    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument { .. } => Code::InvalidArgument,
            Self::Rejected { code, .. } => *code,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// Converts into a `Status` whose `ErrorInfo` names `domain` ("user.trainertribe.dev").
    /// Internal causes are logged here and replaced by a generic message.
    pub fn into_status(self, domain: &str) -> Status {
        match self {
            Self::InvalidArgument {
                reason,
                message,
                violations,
            } => {
                let mut details = ErrorDetails::new();
                details.set_error_info(
                    reason,
                    domain,
                    std::collections::HashMap::<String, String>::new(),
                );
                for v in violations {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(Code::InvalidArgument, message, details)
            }
            Self::Rejected {
                code,
                reason,
                message,
                metadata,
            } => {
                let mut details = ErrorDetails::new();
                details.set_error_info(
                    reason,
                    domain,
                    metadata
                        .into_iter()
                        .collect::<std::collections::HashMap<_, _>>(),
                );
                Status::with_error_details(code, message, details)
            }
            Self::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "internal error");
                let mut details = ErrorDetails::new();
                details.set_error_info(
                    "INTERNAL",
                    domain,
                    std::collections::HashMap::<String, String>::new(),
                );
                Status::with_error_details(Code::Internal, "internal error", details)
            }
        }
    }
}

/// A use-case's result as a gRPC reply: the only place a service turns an `ApiError` into a
/// `Status` is its `grpc.rs`, through this (`domain` is the crate's `policy::ERROR_DOMAIN`).
pub fn reply<T>(domain: &str, result: Result<T, ApiError>) -> Result<tonic::Response<T>, Status> {
    result
        .map(tonic::Response::new)
        .map_err(|err| err.into_status(domain))
}

/// Store seams return `anyhow::Result` (`TimelineStore`, `MessageStore`), but a store may
/// already know what its failure means to the caller (the CQL stores wrap an unreachable
/// cluster as UNAVAILABLE, see `scylla`): an `ApiError` anywhere in the context chain is
/// kept, everything else is INTERNAL.
impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        match err.downcast::<ApiError>() {
            Ok(api) => api,
            Err(err) => Self::Internal(err),
        }
    }
}

/// Collects field violations while validating a request, so one response lists them all.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records the error of a parse step under `field` and returns its value if it parsed.
    pub fn check<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        result: Result<T, E>,
    ) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.to_string());
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, otherwise INVALID_ARGUMENT listing every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.0))
        }
    }
}

/// Maps sqlx errors by SQLSTATE; everything unrecognised is internal.
pub fn from_sqlx(err: sqlx::Error) -> ApiError {
    if let sqlx::Error::Database(db) = &err {
        match db.code().as_deref() {
            Some("23505") => {
                return ApiError::already_exists("ALREADY_EXISTS", "resource already exists");
            }
            Some("23503") => {
                return ApiError::failed_precondition(
                    "REFERENCE_MISSING",
                    "a referenced resource does not exist",
                );
            }
            Some("40001") | Some("40P01") => {
                return ApiError::rejected(Code::Aborted, "CONFLICT", "concurrent update, retry");
            }
            _ => {}
        }
    }
    if matches!(err, sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) {
        tracing::warn!(error = %err, "database unavailable");
        return ApiError::unavailable("DATABASE_UNAVAILABLE", "database unavailable, retry");
    }
    ApiError::internal(err)
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        from_sqlx(err)
    }
}
