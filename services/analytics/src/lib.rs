//! The analytics service.
