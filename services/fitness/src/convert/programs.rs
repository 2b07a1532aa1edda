//! Programs, program days and enrollments as proto messages.

use tribe_proto::fitness::v1 as pb;
use tribe_proto::r#type::v1::UserSummary;

use super::timestamp;
use crate::store::programs::{DayRow, EnrollmentRow, EnrollmentState, ProgramRow};

/// Days per program week.
pub const DAYS_PER_WEEK: i32 = 7;

/// A program with `days` (empty in lists) and its creator's summary.
pub fn program(row: &ProgramRow, creator: UserSummary, days: Vec<pb::ProgramDay>) -> pb::Program {
    pb::Program {
        program_id: row.id.to_string(),
        title: row.title.clone(),
        description: row.description.clone(),
        creator: Some(creator),
        difficulty: row.difficulty,
        is_premium: row.is_premium,
        category_ids: row.category_ids.clone(),
        thumbnail_url: row.thumbnail_url.clone(),
        days,
        duration_days: row.duration_days,
        workout_day_count: row.workout_day_count,
        enrollment_count: row.enrollment_count,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        week_count: week_of(row.duration_days),
    }
}

/// The 1-based week of a 1-based day.
pub fn week_of(day_number: i32) -> i32 {
    (day_number.max(1) - 1) / DAYS_PER_WEEK + 1
}

/// A program day with its workout (without exercises) when it has one.
pub fn day(row: &DayRow, workout: Option<pb::Workout>) -> pb::ProgramDay {
    pb::ProgramDay {
        day_number: row.day_number,
        workout_id: row.workout_id.map(|w| w.to_string()).unwrap_or_default(),
        is_rest_day: row.workout_id.is_none(),
        notes: row.notes.clone(),
        workout,
        week: week_of(row.day_number),
        day_of_week: (row.day_number.max(1) - 1) % DAYS_PER_WEEK + 1,
    }
}

pub fn enrollment_status(state: EnrollmentState) -> pb::EnrollmentStatus {
    match state {
        EnrollmentState::Active => pb::EnrollmentStatus::Active,
        EnrollmentState::Completed => pb::EnrollmentStatus::Completed,
        EnrollmentState::Paused => pb::EnrollmentStatus::Paused,
        EnrollmentState::Left => pb::EnrollmentStatus::Left,
    }
}

/// The first of `workout_days` not in `completed` (both ascending); 0 when all are.
pub fn next_day(workout_days: &[i32], completed: &[i32]) -> i32 {
    workout_days
        .iter()
        .copied()
        .find(|d| completed.binary_search(d).is_err())
        .unwrap_or(0)
}

/// An enrollment with its program (without days) and the days it completed.
pub fn enrollment(
    row: &EnrollmentRow,
    program: Option<pb::Program>,
    completed: Vec<i32>,
    workout_days: &[i32],
) -> pb::Enrollment {
    let next_day_number = next_day(workout_days, &completed);
    pb::Enrollment {
        enrollment_id: row.id.to_string(),
        user_id: row.user_id.to_string(),
        program_id: row.program_id.to_string(),
        program,
        status: enrollment_status(row.state()) as i32,
        completed_day_numbers: completed,
        next_day_number,
        start_time: Some(timestamp(row.started_at)),
        complete_time: row.completed_at.map(timestamp),
        assigned_by_id: row
            .assigned_by_id
            .map(|t| t.to_string())
            .unwrap_or_default(),
        pause_time: row.paused_at.map(timestamp),
        leave_time: row.left_at.map(timestamp),
    }
}
