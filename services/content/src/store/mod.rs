//! Storage of the content service. PostgreSQL functions take a connection (or the pool)
//! so use-cases choose their transaction boundaries; the read rules live in one SQL
//! predicate. Redis holds rate-limit counters and the caches of `crate::cache`.

pub mod comments;
pub mod graph;
pub mod likes;
pub mod moderation;
pub mod posts;
pub mod redis;
pub mod trending;
