//! SQL of challenges.
