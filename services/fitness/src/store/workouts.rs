//! SQL of workouts.
