//! ListPrograms, GetProgram and how programs and enrollments are rendered.

use std::collections::HashMap;

use tonic::Code;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::program_not_found;
use crate::convert::programs as convert;
use crate::service::FitnessService;
use crate::service::fields;
use crate::store::programs::{self as store, DayRow, EnrollmentRow, ProgramFilter, ProgramRow};

const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListPrograms";

impl FitnessService {
    /// A program with its days; `workouts` hydrates the workout days (stripped of their
    /// exercises).
    pub(crate) async fn render_program(
        &self,
        row: &ProgramRow,
        days: &[DayRow],
        workouts: HashMap<Uuid, pb::Workout>,
    ) -> pb::Program {
        let creator = self
            .summaries(&[row.creator_id])
            .await
            .remove(&row.creator_id)
            .unwrap_or_default();
        let days = days
            .iter()
            .map(|d| {
                let workout = d.workout_id.and_then(|w| workouts.get(&w)).map(|w| {
                    let mut w = w.clone();
                    w.exercises.clear();
                    w
                });
                convert::day(d, workout)
            })
            .collect();
        convert::program(row, creator, days)
    }

    /// Programs without their days.
    pub(crate) async fn render_programs(&self, rows: &[ProgramRow]) -> Vec<pb::Program> {
        let creators: Vec<Uuid> = rows.iter().map(|r| r.creator_id).collect();
        let summaries = self.summaries(&creators).await;
        rows.iter()
            .map(|r| {
                let creator = summaries.get(&r.creator_id).cloned().unwrap_or_default();
                convert::program(r, creator, Vec::new())
            })
            .collect()
    }

    /// Enrollments with their programs (without days) and completed days.
    pub(crate) async fn render_enrollments(
        &self,
        conn: &mut sqlx::PgConnection,
        rows: &[EnrollmentRow],
    ) -> Result<Vec<pb::Enrollment>, ApiError> {
        let mut program_ids: Vec<Uuid> = rows.iter().map(|r| r.program_id).collect();
        program_ids.sort_unstable();
        program_ids.dedup();
        let enrollment_ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let programs = store::programs_by_ids(conn, &program_ids).await?;
        let workout_days = store::workout_days(conn, &program_ids).await?;
        let mut completed = store::completed_days(conn, &enrollment_ids).await?;
        let program_rows: Vec<ProgramRow> = program_ids
            .iter()
            .filter_map(|id| programs.get(id).cloned())
            .collect();
        let rendered: HashMap<String, pb::Program> = self
            .render_programs(&program_rows)
            .await
            .into_iter()
            .map(|p| (p.program_id.clone(), p))
            .collect();
        Ok(rows
            .iter()
            .map(|r| {
                convert::enrollment(
                    r,
                    rendered.get(&r.program_id.to_string()).cloned(),
                    completed.remove(&r.id).unwrap_or_default(),
                    workout_days
                        .get(&r.program_id)
                        .map(Vec::as_slice)
                        .unwrap_or_default(),
                )
            })
            .collect())
    }

    /// One enrollment, rendered.
    pub(crate) async fn render_enrollment(
        &self,
        conn: &mut sqlx::PgConnection,
        row: EnrollmentRow,
    ) -> Result<pb::Enrollment, ApiError> {
        self.render_enrollments(conn, std::slice::from_ref(&row))
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("enrollment not rendered")))
    }

    pub async fn list_programs(
        &self,
        caller: &UserPrincipal,
        req: pb::ListProgramsRequest,
    ) -> Result<pb::ListProgramsResponse, ApiError> {
        let mut v = Violations::new();
        let difficulty =
            fields::optional_enum::<pb::Difficulty>(&mut v, "difficulty", req.difficulty)
                .map(|d| d as i32);
        let premium = fields::premium_filter(&mut v, req.premium_filter);
        let creator_id = fields::optional_id(&mut v, "creator_id", &req.creator_id);
        let query = req.query.trim();
        fields::optional_text(&mut v, "query", query, 100);
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let filter = ProgramFilter {
            category_id: Some(req.category_id.as_str()).filter(|c| !c.is_empty()),
            difficulty,
            premium,
            creator_id,
        };
        let filters = FilterHash::new()
            .add("category_id", req.category_id.as_bytes())
            .add("difficulty", difficulty.unwrap_or(0).to_be_bytes())
            .add("premium", [premium.map_or(0u8, |p| 1 + u8::from(p))])
            .add("creator_id", creator_id.unwrap_or_default().as_bytes())
            .add("query", query.as_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let keys = pager.keys(&req.page_token)?;
        let mut conn = self.pool.acquire().await?;
        let (rows, token) = if query.is_empty() {
            let after = page::time_id_cursor(keys)?;
            let mut rows = store::list_newest(&mut conn, &filter, after, pager.fetch()).await?;
            let token = pager.next_token(&mut rows, |r| page::time_id_keys(r.created_at, r.id));
            (rows, token)
        } else {
            let after = fields::score_id_cursor(keys)?;
            let mut ranked = store::search(&mut conn, &filter, query, after, pager.fetch()).await?;
            let token =
                pager.next_token(&mut ranked, |(r, rank)| fields::score_id_keys(*rank, r.id));
            (ranked.into_iter().map(|(r, _)| r).collect(), token)
        };
        drop(conn);
        Ok(pb::ListProgramsResponse {
            programs: self.render_programs(&rows).await,
            next_page_token: token,
        })
    }

    pub async fn get_program(
        &self,
        caller: &UserPrincipal,
        req: pb::GetProgramRequest,
    ) -> Result<pb::GetProgramResponse, ApiError> {
        let id = ids::parse_id("program_id", &req.program_id)?;
        let mut conn = self.pool.acquire().await?;
        let row = store::program(&mut conn, id)
            .await?
            .ok_or_else(program_not_found)?;
        let days = store::days(&mut conn, id).await?;
        drop(conn);
        let mut workouts = HashMap::new();
        for workout_id in days.iter().filter_map(|d| d.workout_id) {
            if workouts.contains_key(&workout_id) {
                continue;
            }
            // Premium workouts are shown as a preview (no exercises); one the caller
            // may not see stays unhydrated.
            match self.workout_for(caller, workout_id, false).await {
                Ok(w) => {
                    workouts.insert(workout_id, w);
                }
                Err(err) if err.code() == Code::NotFound => {}
                Err(err) => return Err(err),
            }
        }
        Ok(pb::GetProgramResponse {
            program: Some(self.render_program(&row, &days, workouts).await),
        })
    }
}
