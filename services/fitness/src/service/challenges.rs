//! Challenges: creation, joining, leaderboards, completion.

mod scoring;

use chrono::{Duration, Utc};
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use super::fields::{self, Replay};
use super::{FitnessService, emit};
use crate::convert::challenges as convert;
use crate::convert::from_timestamp;
use crate::store::challenges::{self as store, ChallengeRow, ListOrder};
use crate::store::header::Header;

pub use scoring::finalise_ended;
pub(crate) use scoring::on_session_logged;

const CREATE_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/CreateChallenge";
const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListChallenges";
const LEADERBOARD_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/GetChallengeLeaderboard";
const MAX_GOAL: f64 = 1e9;
const MAX_DAYS: i64 = 366;
const CHALLENGE_ENDED: &str = "CHALLENGE_ENDED";

fn not_found() -> ApiError {
    ApiError::not_found("challenge")
}

fn ended() -> ApiError {
    ApiError::failed_precondition(
        CHALLENGE_ENDED,
        "the challenge has ended; its results are final",
    )
}

impl FitnessService {
    pub async fn create_challenge(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateChallengeRequest,
    ) -> Result<pb::CreateChallengeResponse, ApiError> {
        fields::require_publisher(caller, "create challenges")?;
        let c = req.challenge.unwrap_or_default();
        let mut v = Violations::new();
        // The request's meaningful parameters, for detecting a reused request_id.
        let params = pb::Challenge {
            title: c.title.clone(),
            description: c.description.clone(),
            difficulty: c.difficulty,
            is_premium: c.is_premium,
            category_ids: c.category_ids.clone(),
            thumbnail_url: c.thumbnail_url.clone(),
            metric: c.metric,
            goal: c.goal,
            start_time: c.start_time,
            end_time: c.end_time,
            workout_id: c.workout_id.clone(),
            ..Default::default()
        };
        let replay = Replay::new(&mut v, caller, CREATE_METHOD, &req.request_id, &params);
        let mut tx = self.pool.begin().await?;
        // A replay comes first: the original start time may have passed since.
        if let Some(first) = replay.claim(&mut tx).await? {
            return Ok(first);
        }

        let now = Utc::now();
        fields::required_text(&mut v, "challenge.title", &c.title, 100);
        fields::optional_text(&mut v, "challenge.description", &c.description, 5000);
        fields::optional_enum::<pb::Difficulty>(&mut v, "challenge.difficulty", c.difficulty);
        fields::https_url(&mut v, "challenge.thumbnail_url", &c.thumbnail_url);
        fields::categories(&mut tx, &mut v, "challenge.category_ids", &c.category_ids).await?;
        let metric = convert::metric_name(c.metric);
        if metric.is_none() {
            v.add(
                "challenge.metric",
                if c.metric == 0 {
                    "is required"
                } else {
                    "unknown metric"
                },
            );
        }
        if !(c.goal.is_finite() && c.goal > 0.0 && c.goal <= MAX_GOAL) {
            v.add("challenge.goal", "must be greater than 0 and at most 1e9");
        }
        let start = c.start_time.as_ref().and_then(from_timestamp);
        let end = c.end_time.as_ref().and_then(from_timestamp);
        match start {
            None => v.add("challenge.start_time", "is required"),
            Some(start) if start <= now => v.add("challenge.start_time", "must be in the future"),
            Some(_) => {}
        }
        match (start, end) {
            (_, None) => v.add("challenge.end_time", "is required"),
            (Some(start), Some(end)) if end <= start => {
                v.add("challenge.end_time", "must be after start_time")
            }
            (Some(start), Some(end)) if end - start > Duration::days(MAX_DAYS) => v.add(
                "challenge.end_time",
                "must be at most 366 days after start_time",
            ),
            _ => {}
        }
        let sessions = metric == Some("workout_sessions");
        let mut workout = None;
        if sessions && c.workout_id.is_empty() {
            v.add(
                "challenge.workout_id",
                "is required for CHALLENGE_METRIC_WORKOUT_SESSIONS",
            );
        } else if sessions {
            workout = fields::optional_id(&mut v, "challenge.workout_id", &c.workout_id);
        } else if !c.workout_id.is_empty() {
            v.add(
                "challenge.workout_id",
                "is only allowed with CHALLENGE_METRIC_WORKOUT_SESSIONS",
            );
        }
        if let Some(id) = workout {
            match self.workout_for(caller, id, false).await {
                Ok(w) if w.visibility == pb::WorkoutVisibility::Private as i32 => v.add(
                    "challenge.workout_id",
                    "must be a public or premium workout",
                ),
                Ok(_) => {}
                Err(err)
                    if matches!(
                        err.code(),
                        tonic::Code::NotFound | tonic::Code::PermissionDenied
                    ) =>
                {
                    v.add("challenge.workout_id", "no such workout")
                }
                Err(err) => return Err(err),
            }
        }
        v.finish()?;
        let (Some(metric), Some(start_at), Some(end_at)) = (metric, start, end) else {
            return Err(ApiError::invalid_field("challenge", "is incomplete"));
        };

        let id = ids::new_id();
        store::insert(
            &mut tx,
            &store::NewChallenge {
                header: Header {
                    id,
                    creator_id: caller.id(),
                    title: &c.title,
                    description: &c.description,
                    difficulty: c.difficulty,
                    is_premium: c.is_premium,
                    category_ids: &c.category_ids,
                    thumbnail_url: &c.thumbnail_url,
                },
                metric,
                goal: c.goal,
                workout_id: workout,
                start_at,
                end_at,
            },
        )
        .await?;
        let row = store::get(&mut tx, caller.id(), id)
            .await?
            .ok_or_else(not_found)?;
        let response = pb::CreateChallengeResponse {
            challenge: self.render(vec![row]).await.pop(),
        };
        replay.complete(&mut tx, &response).await?;
        tx.commit().await?;
        Ok(response)
    }

    pub async fn list_challenges(
        &self,
        caller: &UserPrincipal,
        req: pb::ListChallengesRequest,
    ) -> Result<pb::ListChallengesResponse, ApiError> {
        let mut v = Violations::new();
        let state = fields::optional_enum::<pb::ChallengeState>(&mut v, "state", req.state);
        let order = match state {
            None => ListOrder::Any,
            Some(pb::ChallengeState::Active) => ListOrder::Active,
            Some(pb::ChallengeState::Past) => ListOrder::Past,
            Some(_) => ListOrder::Upcoming,
        };
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let filters = FilterHash::new()
            .add("state", req.state.to_be_bytes())
            .add("joined_only", [u8::from(req.joined_only)])
            .add("category_id", req.category_id.as_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = pager.after_time_id(&req.page_token)?;
        let category = (!req.category_id.is_empty()).then_some(req.category_id.as_str());
        let mut conn = self.pool.acquire().await?;
        let mut rows = store::list(
            &mut conn,
            caller.id(),
            order,
            req.joined_only,
            category,
            Utc::now(),
            after,
            pager.fetch(),
        )
        .await?;
        drop(conn);
        let token = pager.next_token(&mut rows, |r: &ChallengeRow| {
            let at = if order == ListOrder::Active {
                r.end_at
            } else {
                r.start_at
            };
            page::time_id_keys(at, r.id)
        });
        Ok(pb::ListChallengesResponse {
            challenges: self.render(rows).await,
            next_page_token: token,
        })
    }

    pub async fn get_challenge(
        &self,
        caller: &UserPrincipal,
        req: pb::GetChallengeRequest,
    ) -> Result<pb::GetChallengeResponse, ApiError> {
        let id = ids::parse_id("challenge_id", &req.challenge_id)?;
        let mut conn = self.pool.acquire().await?;
        let row = store::get(&mut conn, caller.id(), id)
            .await?
            .ok_or_else(not_found)?;
        drop(conn);
        Ok(pb::GetChallengeResponse {
            challenge: self.render(vec![row]).await.pop(),
        })
    }

    pub async fn join_challenge(
        &self,
        caller: &UserPrincipal,
        req: pb::JoinChallengeRequest,
    ) -> Result<pb::JoinChallengeResponse, ApiError> {
        let id = ids::parse_id("challenge_id", &req.challenge_id)?;
        let mut tx = self.pool.begin().await?;
        let (_, end_at, creator, premium, _) =
            store::lock(&mut tx, id).await?.ok_or_else(not_found)?;
        if end_at <= Utc::now() {
            return Err(ended());
        }
        self.premium_gate(caller, premium, creator).await?;
        if store::join(&mut tx, id, caller.id()).await? {
            emit(
                &mut tx,
                id,
                caller.id(),
                Payload::ChallengeJoined(events::ChallengeJoined {
                    challenge_id: id.to_string(),
                    user_id: caller.id().to_string(),
                    challenge_creator_id: creator.to_string(),
                }),
            )
            .await?;
        }
        // Logs from before joining count: the goal may be reached already.
        scoring::award(&mut tx, caller.id(), None, Some(id)).await?;
        let row = store::get(&mut tx, caller.id(), id)
            .await?
            .ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(pb::JoinChallengeResponse {
            challenge: self.render(vec![row]).await.pop(),
        })
    }

    pub async fn leave_challenge(
        &self,
        caller: &UserPrincipal,
        req: pb::LeaveChallengeRequest,
    ) -> Result<pb::LeaveChallengeResponse, ApiError> {
        let id = ids::parse_id("challenge_id", &req.challenge_id)?;
        let mut tx = self.pool.begin().await?;
        let (_, end_at, ..) = store::lock(&mut tx, id).await?.ok_or_else(not_found)?;
        if end_at <= Utc::now() {
            return Err(ended());
        }
        store::leave(&mut tx, id, caller.id()).await?;
        let row = store::get(&mut tx, caller.id(), id)
            .await?
            .ok_or_else(not_found)?;
        tx.commit().await?;
        Ok(pb::LeaveChallengeResponse {
            challenge: self.render(vec![row]).await.pop(),
        })
    }

    pub async fn get_challenge_leaderboard(
        &self,
        caller: &UserPrincipal,
        req: pb::GetChallengeLeaderboardRequest,
    ) -> Result<pb::GetChallengeLeaderboardResponse, ApiError> {
        let mut v = Violations::new();
        let id = fields::required_id(&mut v, "challenge_id", &req.challenge_id);
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let id = id.ok_or_else(|| ApiError::invalid_field("challenge_id", "is required"))?;
        let filters = FilterHash::new().add("challenge_id", id.as_bytes());
        let pager = self.pager(caller, LEADERBOARD_METHOD, limit, filters);
        let after = fields::score_time_id_cursor(pager.keys(&req.page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        let challenge = store::get(&mut conn, caller.id(), id)
            .await?
            .ok_or_else(not_found)?;
        let mut rows = store::standings(&mut conn, id, after, None, pager.fetch()).await?;
        let mine = if challenge.joined_at.is_some() {
            store::standings(&mut conn, id, None, Some(caller.id()), 1)
                .await?
                .pop()
        } else {
            None
        };
        drop(conn);
        let token = pager.next_token(&mut rows, |s| {
            fields::score_time_id_keys(s.score, s.joined_at, s.user_id)
        });
        let mut users: Vec<Uuid> = rows.iter().map(|s| s.user_id).collect();
        users.extend(mine.iter().map(|s| s.user_id));
        let summaries = self.summaries(&users).await;
        let summary = |user: Uuid| summaries.get(&user).cloned().unwrap_or_default();
        Ok(pb::GetChallengeLeaderboardResponse {
            my_entry: mine.map(|s| {
                let user = summary(s.user_id);
                convert::entry(s, user, challenge.goal)
            }),
            entries: rows
                .into_iter()
                .map(|s| {
                    let user = summary(s.user_id);
                    convert::entry(s, user, challenge.goal)
                })
                .collect(),
            next_page_token: token,
        })
    }

    /// Challenges as proto messages, with their creators' summaries.
    async fn render(&self, rows: Vec<ChallengeRow>) -> Vec<pb::Challenge> {
        let creators: Vec<Uuid> = rows.iter().map(|r| r.creator_id).collect();
        let summaries = self.summaries(&creators).await;
        let now = Utc::now();
        rows.into_iter()
            .map(|row| {
                let creator = summaries.get(&row.creator_id).cloned().unwrap_or_default();
                convert::challenge(row, creator, now)
            })
            .collect()
    }
}
