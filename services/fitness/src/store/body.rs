//! SQL of body.
