//! Domain <-> proto messages, one module per resource.

pub mod catalog;
pub mod challenges;
pub mod coaching;
pub mod nutrition;
pub mod programs;
pub mod progress;
pub mod workouts;

use chrono::{DateTime, Utc};

/// A timestamp for a proto message.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

/// A proto timestamp as a time; `None` when out of range.
pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(ts.nanos).ok()?;
    DateTime::from_timestamp(ts.seconds, nanos)
}
