//! CreateProgram: validating a schedule of workouts and rest days.

use std::collections::{HashMap, HashSet};

use prost::Message;
use tonic::Code;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use crate::service::FitnessService;
use crate::store::programs::{self as store, DayRow, NewProgram};

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateProgram";
/// 52 weeks of 7 days.
pub const MAX_DAY: i32 = 364;
const MAX_TITLE: usize = 100;
const MAX_DESCRIPTION: usize = 5000;
const MAX_NOTES: usize = 500;
const MAX_CATEGORIES: usize = 5;
const MAX_URL: usize = 2048;

/// Empty, or an https URL of at most 2048 characters.
fn https_url(v: &mut Violations, field: &str, value: &str) {
    if value.is_empty() {
        return;
    }
    let ok = value.len() <= MAX_URL
        && url::Url::parse(value)
            .is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()));
    if !ok {
        v.add(field, "must be an https URL of at most 2048 characters");
    }
}

/// The checked days: rows to store and the workouts they name (with their field paths).
struct Schedule {
    rows: Vec<DayRow>,
    workouts: Vec<(String, Uuid)>,
}

fn check_days(v: &mut Violations, days: &[pb::ProgramDay]) -> Schedule {
    if days.is_empty() || days.len() > MAX_DAY as usize {
        v.add("program.days", "must list 1-364 days (at most 52 weeks)");
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::with_capacity(days.len());
    let mut workouts = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let p = format!("program.days[{i}]");
        if !(1..=MAX_DAY).contains(&day.day_number) {
            v.add(
                format!("{p}.day_number"),
                "must be 1-364 (a program lasts at most 52 weeks)",
            );
        } else if !seen.insert(day.day_number) {
            v.add(format!("{p}.day_number"), "is listed twice");
        }
        if day.notes.chars().count() > MAX_NOTES {
            v.add(format!("{p}.notes"), "must be at most 500 characters");
        }
        let workout_id = match (day.is_rest_day, day.workout_id.is_empty()) {
            (true, false) => {
                v.add(format!("{p}.workout_id"), "must be empty on a rest day");
                None
            }
            (true, true) => None,
            (false, true) => {
                v.add(format!("{p}.workout_id"), "is required on a workout day");
                None
            }
            (false, false) => {
                let field = format!("{p}.workout_id");
                let id = v.check(&field, ids::parse_id(&field, &day.workout_id));
                if let Some(id) = id {
                    workouts.push((field, id));
                }
                id
            }
        };
        rows.push(DayRow {
            day_number: day.day_number,
            workout_id,
            notes: day.notes.clone(),
        });
    }
    if !days.is_empty() && !days.iter().any(|d| !d.is_rest_day) {
        v.add("program.days", "needs at least one workout day");
    }
    rows.sort_by_key(|d| d.day_number);
    Schedule { rows, workouts }
}

impl FitnessService {
    pub async fn create_program(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateProgramRequest,
    ) -> Result<pb::CreateProgramResponse, ApiError> {
        let mut v = Violations::new();
        if req.program.is_none() {
            v.add("program", "is required");
        }
        let p = req.program.clone().unwrap_or_default();
        let title = p.title.trim();
        if title.is_empty() || title.chars().count() > MAX_TITLE {
            v.add("program.title", "must be 1-100 characters");
        }
        if p.description.chars().count() > MAX_DESCRIPTION {
            v.add("program.description", "must be at most 5000 characters");
        }
        match pb::Difficulty::try_from(p.difficulty) {
            Ok(pb::Difficulty::Unspecified) => v.add("program.difficulty", "is required"),
            Ok(_) => {}
            Err(_) => v.add("program.difficulty", "unknown difficulty"),
        }
        if p.category_ids.len() > MAX_CATEGORIES {
            v.add("program.category_ids", "must name at most 5 categories");
        }
        let mut seen = HashSet::new();
        for (i, c) in p.category_ids.iter().enumerate() {
            if !seen.insert(c) {
                v.add(format!("program.category_ids[{i}]"), "is listed twice");
            }
        }
        https_url(&mut v, "program.thumbnail_url", &p.thumbnail_url);
        let schedule = check_days(&mut v, &p.days);
        if ids::parse_request_id(&req.request_id).is_err() {
            v.add("request_id", "must be 1-64 visible ASCII characters");
        }

        // References: every named workout must be one the caller can schedule.
        let mut workouts: HashMap<Uuid, Option<pb::Workout>> = HashMap::new();
        for (field, id) in &schedule.workouts {
            if !workouts.contains_key(id) {
                let found = match self.workout_for(caller, *id, false).await {
                    Ok(w) => Some(w),
                    Err(err) if err.code() == Code::NotFound => None,
                    Err(err) => return Err(err),
                };
                workouts.insert(*id, found);
            }
            match workouts.get(id) {
                Some(Some(w)) if w.visibility == pb::WorkoutVisibility::Private as i32 => v.add(
                    field.clone(),
                    "is a private workout, which enrollees could not open",
                ),
                Some(Some(_)) => {}
                _ => v.add(field.clone(), "no such workout"),
            }
        }
        let mut conn = self.pool.acquire().await?;
        let known = store::known_categories(&mut conn, &p.category_ids).await?;
        drop(conn);
        for (i, c) in p.category_ids.iter().enumerate() {
            if !known.contains(c) {
                v.add(format!("program.category_ids[{i}]"), "unknown category");
            }
        }
        v.finish()?;

        // The request's meaningful parameters, for detecting a reused request_id.
        let params = pb::Program {
            title: title.to_string(),
            description: p.description.clone(),
            difficulty: p.difficulty,
            is_premium: p.is_premium,
            category_ids: p.category_ids.clone(),
            thumbnail_url: p.thumbnail_url.clone(),
            days: p
                .days
                .iter()
                .map(|d| pb::ProgramDay {
                    day_number: d.day_number,
                    workout_id: d.workout_id.clone(),
                    is_rest_day: d.is_rest_day,
                    notes: d.notes.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let hash = idempotency::request_hash(&params.encode_to_vec());
        let mut tx = self.pool.begin().await?;
        if let Claim::Replay(bytes) = idempotency::claim(
            &mut tx,
            caller.subject(),
            CREATE_METHOD,
            &req.request_id,
            &hash,
        )
        .await?
        {
            return pb::CreateProgramResponse::decode(bytes.as_slice()).map_err(ApiError::internal);
        }
        let id = ids::new_id();
        let duration_days = schedule
            .rows
            .iter()
            .map(|d| d.day_number)
            .max()
            .unwrap_or(1);
        let workout_day_count = schedule
            .rows
            .iter()
            .filter(|d| d.workout_id.is_some())
            .count() as i32;
        store::insert_program(
            &mut tx,
            &NewProgram {
                id,
                creator_id: caller.id(),
                title,
                description: &p.description,
                difficulty: p.difficulty,
                is_premium: p.is_premium,
                category_ids: &p.category_ids,
                thumbnail_url: &p.thumbnail_url,
                duration_days,
                workout_day_count,
            },
        )
        .await?;
        store::insert_days(&mut tx, id, &schedule.rows).await?;
        let row = store::program(&mut tx, id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("inserted program vanished")))?;
        let hydrated = workouts
            .into_iter()
            .filter_map(|(id, w)| w.map(|w| (id, w)))
            .collect();
        let program = self.render_program(&row, &schedule.rows, hydrated).await;
        let response = pb::CreateProgramResponse {
            program: Some(program),
        };
        idempotency::complete(
            &mut tx,
            caller.subject(),
            CREATE_METHOD,
            &req.request_id,
            &response.encode_to_vec(),
        )
        .await?;
        tx.commit().await?;
        Ok(response)
    }
}
