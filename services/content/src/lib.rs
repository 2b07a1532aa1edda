//! The content service.
