//! Today's session: the next workout day with loads from the user's history and the rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::fields::optional_id;
use super::programs::{enrollment_not_found, not_active, program_not_found};
use crate::convert::programs::next_day;
use crate::progression::{self, PastSet, Session};
use crate::store::programs::history::{self, HistorySet};
use crate::store::programs::{self as store, EnrollmentRow, EnrollmentState};

/// Logs of the workout replayed for progression.
const HISTORY_LOGS: i64 = 100;

/// The program day the calendar says it is: days since the start in `zone`, pauses
/// left out, 1 on the first day, 0 before a scheduled start.
fn calendar_day(row: &EnrollmentRow, now: DateTime<Utc>, zone: Tz) -> i32 {
    let mut paused = row.paused_seconds;
    if let Some(since) = row.paused_at {
        paused += (now - since).num_seconds().max(0);
    }
    let effective = now - chrono::Duration::seconds(paused.max(0));
    let start = row.started_at.with_timezone(&zone).date_naive();
    let today = effective.with_timezone(&zone).date_naive();
    let days = (today - start).num_days();
    if days < 0 {
        return 0;
    }
    i32::try_from(days + 1).unwrap_or(i32::MAX)
}

fn is_judged(set_type: &str) -> bool {
    matches!(set_type, "working" | "amrap")
}

/// The sessions (newest first) of the entry at `position` performing `exercise`.
fn sessions_of(history: &[HistorySet], position: i32, exercise: Uuid) -> Vec<Session> {
    let mut sessions: Vec<(Uuid, Session)> = Vec::new();
    for set in history
        .iter()
        .filter(|s| s.workout_position == position && s.exercise_id == exercise)
    {
        if sessions.last().is_none_or(|(log, _)| *log != set.log_id) {
            sessions.push((set.log_id, Session::default()));
        }
        if is_judged(&set.set_type)
            && let Some((_, session)) = sessions.last_mut()
        {
            session.sets.push(PastSet {
                reps: set.reps,
                weight_kg: set.weight_kg,
                completed: set.completed,
                target_met: set.target_met,
            });
        }
    }
    sessions.into_iter().map(|(_, s)| s).collect()
}

impl FitnessService {
    pub async fn get_todays_session(
        &self,
        caller: &UserPrincipal,
        req: pb::GetTodaysSessionRequest,
    ) -> Result<pb::GetTodaysSessionResponse, ApiError> {
        let mut v = Violations::new();
        let enrollment_id = optional_id(&mut v, "enrollment_id", &req.enrollment_id);
        if !req.time_zone.is_empty() && req.time_zone.parse::<Tz>().is_err() {
            v.add("time_zone", "not a known IANA time zone");
        }
        v.finish()?;
        let zone = self
            .time_zone_of(caller.id(), &req.time_zone, "time_zone")
            .await?;

        let mut conn = self.pool.acquire().await?;
        let row = match enrollment_id {
            Some(id) => store::enrollment(&mut conn, caller.id(), id, false).await?,
            None => store::latest_active(&mut conn, caller.id()).await?,
        }
        .ok_or_else(enrollment_not_found)?;
        if matches!(row.state(), EnrollmentState::Paused | EnrollmentState::Left) {
            return Err(not_active(row.state()));
        }
        store::program(&mut conn, row.program_id)
            .await?
            .ok_or_else(program_not_found)?;
        let days = store::days(&mut conn, row.program_id).await?;
        let completed = store::completed_days(&mut conn, &[row.id])
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        let workout_days: Vec<i32> = days
            .iter()
            .filter(|d| d.workout_id.is_some())
            .map(|d| d.day_number)
            .collect();
        let calendar_day_number = calendar_day(&row, Utc::now(), zone);
        let mut session = pb::TodaysSession {
            enrollment_id: row.id.to_string(),
            program_id: row.program_id.to_string(),
            day_number: next_day(&workout_days, &completed),
            calendar_day_number,
            calendar_rest_day: !workout_days.contains(&calendar_day_number),
            ..Default::default()
        };
        let Some(day) = days.iter().find(|d| d.day_number == session.day_number) else {
            return Ok(pb::GetTodaysSessionResponse {
                session: Some(session),
            });
        };
        session.notes = day.notes.clone();
        let Some(workout_id) = day.workout_id else {
            return Ok(pb::GetTodaysSessionResponse {
                session: Some(session),
            });
        };
        drop(conn);

        let mut workout = self.workout_for(caller, workout_id, true).await?;
        self.premium_workout_gate(caller, &workout).await?;
        let entries = std::mem::take(&mut workout.exercises);
        let mut exercise_ids: Vec<Uuid> = entries
            .iter()
            .filter_map(|e| Uuid::parse_str(&e.exercise_id).ok())
            .collect();
        exercise_ids.sort_unstable();
        exercise_ids.dedup();
        let mut conn = self.pool.acquire().await?;
        let history =
            history::workout_history(&mut conn, caller.id(), workout_id, HISTORY_LOGS).await?;
        let maxes: HashMap<Uuid, f64> =
            history::one_rep_maxes(&mut conn, caller.id(), &exercise_ids).await?;
        drop(conn);

        session.exercises = entries
            .into_iter()
            .map(|entry| {
                let exercise = Uuid::parse_str(&entry.exercise_id).unwrap_or_default();
                let max = maxes.get(&exercise).copied();
                let past = sessions_of(&history, entry.position, exercise);
                let next = progression::next_session(
                    &entry.set_plan,
                    entry.progression.as_ref(),
                    &past,
                    max,
                );
                pb::SessionExercise {
                    position: entry.position,
                    exercise_id: entry.exercise_id,
                    exercise: entry.exercise,
                    block: entry.block,
                    block_kind: entry.block_kind,
                    sets: next.sets,
                    tempo: entry.tempo,
                    progression_note: next.note,
                    estimated_one_rep_max_kg: max.unwrap_or(0.0),
                }
            })
            .collect();
        session.workout = Some(workout);
        Ok(pb::GetTodaysSessionResponse {
            session: Some(session),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn enrollment(started: DateTime<Utc>, paused_seconds: i64) -> EnrollmentRow {
        EnrollmentRow {
            id: Uuid::nil(),
            user_id: Uuid::nil(),
            program_id: Uuid::nil(),
            status: "active".into(),
            assigned_by_id: None,
            started_at: started,
            completed_at: None,
            paused_at: None,
            left_at: None,
            paused_seconds,
        }
    }

    #[test]
    fn calendar_days_count_local_dates_and_skip_pauses() {
        let start = Utc.with_ymd_and_hms(2025, 3, 1, 22, 30, 0).unwrap();
        let cases = [
            // (now, paused seconds, zone, expected day)
            (start, 0, Tz::UTC, 1),
            (
                Utc.with_ymd_and_hms(2025, 3, 2, 0, 30, 0).unwrap(),
                0,
                Tz::UTC,
                2,
            ),
            // In Tokyo the start was already 2 March, and so is the later instant.
            (
                Utc.with_ymd_and_hms(2025, 3, 2, 0, 30, 0).unwrap(),
                0,
                chrono_tz::Asia::Tokyo,
                1,
            ),
            (
                Utc.with_ymd_and_hms(2025, 3, 11, 23, 0, 0).unwrap(),
                0,
                Tz::UTC,
                11,
            ),
            // Three days paused.
            (
                Utc.with_ymd_and_hms(2025, 3, 11, 23, 0, 0).unwrap(),
                3 * 86_400,
                Tz::UTC,
                8,
            ),
            // Before a start scheduled ahead.
            (
                Utc.with_ymd_and_hms(2025, 2, 27, 12, 0, 0).unwrap(),
                0,
                Tz::UTC,
                0,
            ),
        ];
        for (now, paused, zone, expected) in cases {
            assert_eq!(
                calendar_day(&enrollment(start, paused), now, zone),
                expected,
                "{now} paused {paused} in {zone}"
            );
        }
    }
}
