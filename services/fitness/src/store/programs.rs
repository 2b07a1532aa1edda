//! SQL of programs.
