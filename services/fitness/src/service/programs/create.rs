//! CreateProgram: validating a schedule of workouts and rest days.

use std::collections::{HashMap, HashSet};

use tonic::Code;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use crate::service::FitnessService;
use crate::service::fields::{self, Replay};
use crate::store::header::Header;
use crate::store::programs::{self as store, DayRow, NewProgram};

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateProgram";
/// 52 weeks of 7 days.
pub const MAX_DAY: i32 = 364;

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
        fields::optional_text(v, &format!("{p}.notes"), &day.notes, 500);
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
                let id = fields::optional_id(v, &field, &day.workout_id);
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

/// The request's meaningful parameters, for detecting a reused request_id.
fn params(title: &str, p: &pb::Program) -> pb::Program {
    pb::Program {
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
    }
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
        fields::required_text(&mut v, "program.title", title, 100);
        fields::optional_text(&mut v, "program.description", &p.description, 5000);
        fields::required_enum::<pb::Difficulty>(&mut v, "program.difficulty", p.difficulty);
        fields::https_url(&mut v, "program.thumbnail_url", &p.thumbnail_url);
        let schedule = check_days(&mut v, &p.days);
        let replay = Replay::new(
            &mut v,
            caller,
            CREATE_METHOD,
            &req.request_id,
            &params(title, &p),
        );

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
        fields::categories(&mut conn, &mut v, "program.category_ids", &p.category_ids).await?;
        drop(conn);
        v.finish()?;

        let mut tx = self.pool.begin().await?;
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
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
                header: Header {
                    id,
                    creator_id: caller.id(),
                    title,
                    description: &p.description,
                    difficulty: p.difficulty,
                    is_premium: p.is_premium,
                    category_ids: &p.category_ids,
                    thumbnail_url: &p.thumbnail_url,
                },
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
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }
}
