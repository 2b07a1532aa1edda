//! The messaging service.
