//! PostgreSQL access of the content service. Functions take a connection so use-cases
//! choose their transaction boundaries; the read rules live in one SQL predicate.

pub mod graph;
pub mod posts;
