//! Statistics: streaks in the user's time zone, weekly series, muscle volume, records, history.

pub(super) mod calendar;
mod records;

use std::collections::HashMap;

use chrono::{Duration, Utc};
use chrono_tz::Tz;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash};
use tribe_kit::{ApiError, Violations};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::FitnessService;
use super::fields::{self, required_id};
use crate::convert::progress::{epley, record_eligible, set_log, set_volume};
use crate::convert::timestamp;
use crate::store::{catalog, progress as store};

const HISTORY_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/GetExerciseHistory";
const DEFAULT_WEEKS: i32 = 12;
const MAX_WEEKS: i32 = 104;

impl FitnessService {
    pub async fn get_progress_stats(
        &self,
        caller: &UserPrincipal,
        req: pb::GetProgressStatsRequest,
    ) -> Result<pb::GetProgressStatsResponse, ApiError> {
        let mut v = Violations::new();
        let user = required_id(&mut v, "user_id", &req.user_id);
        if !req.time_zone.is_empty() && req.time_zone.parse::<Tz>().is_err() {
            v.add("time_zone", "not a known IANA time zone");
        }
        let week_count = match req.week_count {
            0 => DEFAULT_WEEKS,
            n if (1..=MAX_WEEKS).contains(&n) => n,
            _ => {
                v.add("week_count", "must be 1-104, or 0 for 12");
                DEFAULT_WEEKS
            }
        };
        v.finish()?;
        let user = user.ok_or_else(|| ApiError::invalid_field("user_id", "is required"))?;
        self.authorize_progress_read(caller, user).await?;
        let zone = self.time_zone_of(user, &req.time_zone, "time_zone").await?;

        let mut conn = self.pool.acquire().await?;
        let logs = store::log_facts(&mut conn, user).await?;
        let today = calendar::local_date(Utc::now(), zone);
        let days = calendar::days_of(logs.iter().map(|l| l.completed_at), zone);
        let (current_streak_days, longest_streak_days) = calendar::streaks(&days, today);

        let first_week = calendar::week_start(today) - Duration::weeks(i64::from(week_count - 1));
        let week_of = |at| {
            let start = calendar::week_start(calendar::local_date(at, zone));
            let index = (start - first_week).num_days() / 7;
            usize::try_from(index)
                .ok()
                .filter(|i| *i < week_count as usize)
        };
        let mut weekly: Vec<pb::WeeklyVolume> = (0..week_count)
            .map(|k| pb::WeeklyVolume {
                week_start_time: Some(timestamp(calendar::day_start(
                    first_week + Duration::weeks(i64::from(k)),
                    zone,
                ))),
                ..Default::default()
            })
            .collect();
        let mut seconds = vec![0i64; weekly.len()];
        for log in &logs {
            if let Some(i) = week_of(log.completed_at) {
                weekly[i].workouts += 1;
                seconds[i] += i64::from(log.duration_seconds);
                weekly[i].calories += log.calories;
                weekly[i].volume_kg += log.volume_kg;
            }
        }
        for (week, secs) in weekly.iter_mut().zip(&seconds) {
            week.minutes = i32::try_from(secs / 60).unwrap_or(i32::MAX);
        }

        // Muscle volume: every hard set counts for each primary group of its exercise.
        let sets =
            store::hard_sets_since(&mut conn, user, calendar::day_start(first_week, zone)).await?;
        let mut exercise_ids: Vec<Uuid> = sets.iter().map(|s| s.exercise_id).collect();
        exercise_ids.sort_unstable();
        exercise_ids.dedup();
        let facts = catalog::exercise_facts(&mut conn, &exercise_ids).await?;
        let mut muscles: Vec<HashMap<i32, (i32, f64)>> = vec![HashMap::new(); weekly.len()];
        for set in &sets {
            let (Some(i), Some(f)) = (week_of(set.completed_at), facts.get(&set.exercise_id))
            else {
                continue;
            };
            let volume = f64::from(set.reps) * set.weight_kg.unwrap_or(0.0);
            for group in &f.primary_groups {
                let entry = muscles[i].entry(*group).or_default();
                entry.0 += 1;
                entry.1 += volume;
            }
        }
        for (week, groups) in weekly.iter_mut().zip(muscles) {
            let mut list: Vec<pb::MuscleVolume> = groups
                .into_iter()
                .map(|(group, (sets, volume_kg))| pb::MuscleVolume {
                    muscle_group: group,
                    sets,
                    volume_kg,
                })
                .collect();
            list.sort_by(|a, b| {
                b.volume_kg
                    .total_cmp(&a.volume_kg)
                    .then(b.sets.cmp(&a.sets))
                    .then(a.muscle_group.cmp(&b.muscle_group))
            });
            week.muscles = list;
        }

        let personal_records = records::records(&mut conn, user, None).await?;
        Ok(pb::GetProgressStatsResponse {
            stats: Some(pb::ProgressStats {
                user_id: user.to_string(),
                current_streak_days,
                longest_streak_days,
                total_workouts: logs.len() as i64,
                total_minutes: logs
                    .iter()
                    .map(|l| i64::from(l.duration_seconds))
                    .sum::<i64>()
                    / 60,
                total_calories: logs.iter().map(|l| i64::from(l.calories)).sum(),
                total_volume_kg: logs.iter().map(|l| l.volume_kg).sum(),
                weekly,
                last_completed_time: logs.iter().map(|l| l.completed_at).max().map(timestamp),
                personal_records,
                time_zone: zone.name().to_string(),
            }),
        })
    }

    pub async fn get_exercise_history(
        &self,
        caller: &UserPrincipal,
        req: pb::GetExerciseHistoryRequest,
    ) -> Result<pb::GetExerciseHistoryResponse, ApiError> {
        let mut v = Violations::new();
        let user = required_id(&mut v, "user_id", &req.user_id);
        let exercise = required_id(&mut v, "exercise_id", &req.exercise_id);
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let (Some(user), Some(exercise)) = (user, exercise) else {
            return Err(ApiError::invalid_field("user_id", "is required"));
        };
        self.authorize_progress_read(caller, user).await?;
        let mut conn = self.pool.acquire().await?;
        let facts = catalog::exercise_facts(&mut conn, &[exercise]).await?;
        // The user's own pending exercise is in their history for whoever may read it.
        let visible = facts.get(&exercise).is_some_and(|f| {
            f.usable_by(caller.id(), caller.is_admin()) || f.creator_id == Some(user)
        });
        if !visible {
            return Err(ApiError::not_found("exercise"));
        }
        let filters = FilterHash::new()
            .add("user_id", user.as_bytes())
            .add("exercise_id", exercise.as_bytes());
        let pager = self.pager(caller, HISTORY_METHOD, limit, filters);
        let after = pager.after_time_id(&req.page_token)?;
        let mut sessions =
            store::exercise_sessions(&mut conn, user, exercise, after, pager.fetch()).await?;
        let next_page_token =
            pager.next_token(&mut sessions, |(id, at)| page::time_id_keys(*at, *id));
        let ids: Vec<Uuid> = sessions.iter().map(|(id, _)| *id).collect();
        let sets = store::exercise_sets(&mut conn, &ids, exercise).await?;
        let entries = sessions
            .iter()
            .map(|(id, at)| {
                let mine: Vec<_> = sets.iter().filter(|s| s.log_id == *id).collect();
                pb::ExerciseHistoryEntry {
                    progress_log_id: id.to_string(),
                    completed_time: Some(timestamp(*at)),
                    sets: mine.iter().map(|s| set_log(s)).collect(),
                    volume_kg: mine.iter().map(|s| set_volume(s)).sum(),
                    estimated_one_rep_max_kg: mine
                        .iter()
                        .filter(|s| record_eligible(s))
                        .map(|s| epley(s.weight_kg.unwrap_or(0.0), s.reps))
                        .fold(0.0, f64::max),
                }
            })
            .collect();
        let personal_record = records::records(&mut conn, user, Some(&[exercise]))
            .await?
            .into_iter()
            .next();
        Ok(pb::GetExerciseHistoryResponse {
            entries,
            personal_record,
            next_page_token,
        })
    }
}
