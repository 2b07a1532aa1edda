//! SQL of the fitness service, one module per resource: rows in, domain types out.

pub mod body;
pub mod catalog;
pub mod challenges;
pub mod coaching;
pub mod header;
pub mod nutrition;
pub mod programs;
pub mod progress;
pub mod window;
pub mod workouts;
