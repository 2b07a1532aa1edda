//! Trainer-client relationships: invitation, acceptance, ending.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash};
use tribe_kit::{ApiError, Violations, ids};
use tribe_proto::fitness::v1 as pb;

use super::FitnessService;
use super::fields::{self, optional_enum};
use crate::convert::coaching as convert;
use crate::store::coaching::{self as store, CoachingRow, CoachingState, Side};

const LIST_METHOD: &str = "/trainertribe.fitness.v1.FitnessService/ListCoachings";

fn coaching_not_found() -> ApiError {
    ApiError::not_found("coaching")
}

impl FitnessService {
    async fn render_coachings(&self, rows: &[CoachingRow]) -> Vec<pb::Coaching> {
        let people: Vec<_> = rows
            .iter()
            .flat_map(|r| [r.trainer_id, r.client_id])
            .collect();
        let summaries = self.summaries(&people).await;
        rows.iter()
            .map(|r| convert::coaching(r, &summaries))
            .collect()
    }

    async fn render_coaching(&self, row: CoachingRow) -> pb::Coaching {
        self.render_coachings(std::slice::from_ref(&row))
            .await
            .pop()
            .unwrap_or_default()
    }

    pub async fn invite_client(
        &self,
        caller: &UserPrincipal,
        req: pb::InviteClientRequest,
    ) -> Result<pb::InviteClientResponse, ApiError> {
        let client = ids::parse_id("client_id", &req.client_id)?;
        if client == caller.id() {
            return Err(ApiError::invalid_field(
                "client_id",
                "a trainer cannot coach themselves",
            ));
        }
        if !self.user_exists(client).await? {
            return Err(ApiError::not_found("user"));
        }
        let mut conn = self.pool.acquire().await?;
        let row = store::invite(&mut conn, tribe_kit::ids::new_id(), caller.id(), client)
            .await?
            .ok_or_else(|| {
                ApiError::already_exists(
                    "ALREADY_COACHING",
                    "a pending or active relationship with this user exists",
                )
            })?;
        drop(conn);
        Ok(pb::InviteClientResponse {
            coaching: Some(self.render_coaching(row).await),
        })
    }

    pub async fn accept_coaching(
        &self,
        caller: &UserPrincipal,
        req: pb::AcceptCoachingRequest,
    ) -> Result<pb::AcceptCoachingResponse, ApiError> {
        let id = ids::parse_id("coaching_id", &req.coaching_id)?;
        let mut tx = self.pool.begin().await?;
        // Only the invited client may accept; to anyone else the invitation does not exist.
        let row = store::lock_for(&mut tx, id, caller.id())
            .await?
            .filter(|r| r.client_id == caller.id())
            .ok_or_else(coaching_not_found)?;
        let row = match row.state() {
            CoachingState::Pending => store::accept(&mut tx, id).await?,
            CoachingState::Active => row,
            CoachingState::Ended => {
                return Err(ApiError::failed_precondition(
                    "COACHING_ENDED",
                    "the relationship has ended",
                ));
            }
        };
        tx.commit().await?;
        Ok(pb::AcceptCoachingResponse {
            coaching: Some(self.render_coaching(row).await),
        })
    }

    pub async fn end_coaching(
        &self,
        caller: &UserPrincipal,
        req: pb::EndCoachingRequest,
    ) -> Result<pb::EndCoachingResponse, ApiError> {
        let id = ids::parse_id("coaching_id", &req.coaching_id)?;
        let mut tx = self.pool.begin().await?;
        let row = store::lock_for(&mut tx, id, caller.id())
            .await?
            .ok_or_else(coaching_not_found)?;
        let row = match row.state() {
            CoachingState::Ended => row,
            _ => store::end(&mut tx, id, caller.id()).await?,
        };
        tx.commit().await?;
        Ok(pb::EndCoachingResponse {
            coaching: Some(self.render_coaching(row).await),
        })
    }

    pub async fn list_coachings(
        &self,
        caller: &UserPrincipal,
        req: pb::ListCoachingsRequest,
    ) -> Result<pb::ListCoachingsResponse, ApiError> {
        let mut v = Violations::new();
        let side = optional_enum::<pb::CoachingSide>(&mut v, "side", req.side).map(|s| match s {
            pb::CoachingSide::Client => Side::Client,
            _ => Side::Trainer,
        });
        let state =
            optional_enum::<pb::CoachingStatus>(&mut v, "status", req.status).map(|s| match s {
                pb::CoachingStatus::Active => CoachingState::Active,
                pb::CoachingStatus::Ended => CoachingState::Ended,
                _ => CoachingState::Pending,
            });
        let limit = fields::page_size(&mut v, req.page_size);
        v.finish()?;
        let filters = FilterHash::new()
            .add("side", req.side.to_be_bytes())
            .add("status", req.status.to_be_bytes());
        let pager = self.pager(caller, LIST_METHOD, limit, filters);
        let after = pager.after_time_id(&req.page_token)?;
        let mut conn = self.pool.acquire().await?;
        let mut rows =
            store::list(&mut conn, caller.id(), side, state, after, pager.fetch()).await?;
        drop(conn);
        let token = pager.next_token(&mut rows, |r| page::time_id_keys(r.created_at, r.id));
        Ok(pb::ListCoachingsResponse {
            coachings: self.render_coachings(&rows).await,
            next_page_token: token,
        })
    }
}
