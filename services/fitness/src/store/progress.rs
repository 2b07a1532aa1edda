//! SQL of progress.
