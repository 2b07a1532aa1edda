//! The social graph: follows, blocks, relationship lookups and the internal fan-out feeds.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{self, FilterHash, PageScope};
use tribe_kit::page::{time_id_cursor, time_id_keys};
use tribe_kit::{ApiError, ids};
use tribe_proto::events::v1 as events;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::user::v1 as pb;
use uuid::Uuid;

use super::{UserService, emit};
use crate::convert;
use crate::store::graph::{self, EdgeList};
use crate::store::{self, SummaryRow};

const MAX_RELATIONSHIP_IDS: usize = 100;
pub(super) const MAX_BATCH_IDS: usize = 500;

pub(super) fn parse_ids(field: &str, raw: &[String], max: usize) -> Result<Vec<Uuid>, ApiError> {
    if raw.len() > max {
        return Err(ApiError::invalid_field(field, format!("at most {max} ids")));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut violations = tribe_kit::Violations::new();
    for (i, id) in raw.iter().enumerate() {
        match Uuid::try_parse(id) {
            Ok(id) if !out.contains(&id) => out.push(id),
            Ok(_) => {}
            Err(_) => violations.add(format!("{field}[{i}]"), "is not a valid id"),
        }
    }
    violations.finish()?;
    Ok(out)
}

fn relationship(r: graph::RelationshipRow) -> pb::Relationship {
    let graph::RelationshipRow {
        id,
        following,
        followed_by,
        blocking,
        blocked_by,
    } = r;
    pb::Relationship {
        user_id: id.to_string(),
        following,
        followed_by,
        blocking,
        blocked_by,
    }
}

impl UserService {
    pub async fn follow(
        &self,
        caller: &UserPrincipal,
        req: pb::FollowUserRequest,
    ) -> Result<pb::FollowUserResponse, ApiError> {
        // PostgreSQL rolls a deadlock victim back whole (crossing follows touch the same
        // users rows): running it again is safe, at most twice more.
        let mut attempt = 0;
        loop {
            match self.follow_once(caller, req.clone()).await {
                Err(err) if err.code() == tonic::Code::Aborted && attempt < 2 => attempt += 1,
                other => return other,
            }
        }
    }

    async fn follow_once(
        &self,
        caller: &UserPrincipal,
        req: pb::FollowUserRequest,
    ) -> Result<pb::FollowUserResponse, ApiError> {
        let me = caller.id();
        let target = ids::parse_id("user_id", &req.user_id)?;
        if target == me {
            return Err(ApiError::invalid_reason(
                "CANNOT_FOLLOW_SELF",
                "user_id",
                "you cannot follow yourself",
            ));
        }
        let mut tx = self.pool.begin().await?;
        let summary = store::summaries(&mut tx, &[target])
            .await?
            .pop()
            .ok_or_else(|| ApiError::not_found("user"))?;
        if graph::blocked_either_way(&mut tx, me, target).await? {
            return Err(ApiError::failed_precondition(
                "BLOCKED",
                "you cannot follow this user",
            ));
        }
        let (at, created) = graph::follow(&mut tx, me, target).await?;
        if created {
            store::award(&mut tx, me, "FIRST_FOLLOW").await?;
            let followers: i64 =
                sqlx::query_scalar("SELECT follower_count FROM users WHERE id = $1")
                    .bind(target)
                    .fetch_one(&mut *tx)
                    .await?;
            if followers >= 10 {
                store::award(&mut tx, target, "FOLLOWERS_10").await?;
            }
            if followers >= 100 {
                store::award(&mut tx, target, "FOLLOWERS_100").await?;
            }
            emit(
                &mut tx,
                target,
                caller.subject(),
                Payload::UserFollowed(events::UserFollowed {
                    follower_id: me.to_string(),
                    followee_id: target.to_string(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pb::FollowUserResponse {
            follow: Some(pb::FollowEdge {
                user: Some(convert::summary(summary)),
                follow_time: convert::timestamp(at),
            }),
        })
    }

    pub async fn unfollow(
        &self,
        caller: &UserPrincipal,
        req: pb::UnfollowUserRequest,
    ) -> Result<pb::UnfollowUserResponse, ApiError> {
        let me = caller.id();
        let target = ids::parse_id("user_id", &req.user_id)?;
        let mut tx = self.pool.begin().await?;
        if !store::exists(&mut tx, target).await? {
            return Err(ApiError::not_found("user"));
        }
        if graph::unfollow(&mut tx, me, target).await? {
            emit(
                &mut tx,
                target,
                caller.subject(),
                Payload::UserUnfollowed(events::UserUnfollowed {
                    follower_id: me.to_string(),
                    followee_id: target.to_string(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pb::UnfollowUserResponse {})
    }

    /// One page of followers, following or blocked users of `owner`.
    async fn edges(
        &self,
        caller: &UserPrincipal,
        method: &str,
        list: EdgeList,
        owner: Uuid,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<graph::EdgeRow>, String), ApiError> {
        let me = caller.id();
        let limit = page::page_size(page_size)? as usize;
        let hash = FilterHash::new().add("user_id", owner.as_bytes()).finish();
        let scope = PageScope {
            method,
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = time_id_cursor(self.pages.decode(scope, page_token)?)?;
        let mut conn = self.pool.acquire().await?;
        if !store::exists(&mut conn, owner).await?
            || (owner != me && store::is_blocked(&mut conn, owner, me).await?)
        {
            return Err(ApiError::not_found("user"));
        }
        let mut rows = graph::list_edges(&mut conn, list, owner, after, limit as i64 + 1).await?;
        let token = self
            .pages
            .next_token(scope, &mut rows, limit, |r| time_id_keys(r.at, r.user.id));
        Ok((rows, token))
    }

    pub async fn list_followers(
        &self,
        caller: &UserPrincipal,
        req: pb::ListFollowersRequest,
    ) -> Result<pb::ListFollowersResponse, ApiError> {
        let owner = ids::parse_id("user_id", &req.user_id)?;
        let (rows, next_page_token) = self
            .edges(
                caller,
                "ListFollowers",
                EdgeList::Followers,
                owner,
                req.page_size,
                &req.page_token,
            )
            .await?;
        Ok(pb::ListFollowersResponse {
            followers: rows.into_iter().map(edge).collect(),
            next_page_token,
        })
    }

    pub async fn list_following(
        &self,
        caller: &UserPrincipal,
        req: pb::ListFollowingRequest,
    ) -> Result<pb::ListFollowingResponse, ApiError> {
        let owner = ids::parse_id("user_id", &req.user_id)?;
        let (rows, next_page_token) = self
            .edges(
                caller,
                "ListFollowing",
                EdgeList::Following,
                owner,
                req.page_size,
                &req.page_token,
            )
            .await?;
        Ok(pb::ListFollowingResponse {
            following: rows.into_iter().map(edge).collect(),
            next_page_token,
        })
    }

    pub async fn list_blocked(
        &self,
        caller: &UserPrincipal,
        req: pb::ListBlockedUsersRequest,
    ) -> Result<pb::ListBlockedUsersResponse, ApiError> {
        let me = caller.id();
        let (rows, next_page_token) = self
            .edges(
                caller,
                "ListBlockedUsers",
                EdgeList::Blocked,
                me,
                req.page_size,
                &req.page_token,
            )
            .await?;
        Ok(pb::ListBlockedUsersResponse {
            users: rows.into_iter().map(|r| convert::summary(r.user)).collect(),
            next_page_token,
        })
    }

    pub async fn block(
        &self,
        caller: &UserPrincipal,
        req: pb::BlockUserRequest,
    ) -> Result<pb::BlockUserResponse, ApiError> {
        let me = caller.id();
        let target = ids::parse_id("user_id", &req.user_id)?;
        if target == me {
            return Err(ApiError::invalid_reason(
                "CANNOT_BLOCK_SELF",
                "user_id",
                "you cannot block yourself",
            ));
        }
        let mut tx = self.pool.begin().await?;
        if !store::exists(&mut tx, target).await? {
            return Err(ApiError::not_found("user"));
        }
        if graph::block(&mut tx, me, target).await? {
            for (follower, followee) in [(me, target), (target, me)] {
                if graph::unfollow(&mut tx, follower, followee).await? {
                    let payload = Payload::UserUnfollowed(events::UserUnfollowed {
                        follower_id: follower.to_string(),
                        followee_id: followee.to_string(),
                    });
                    emit(&mut tx, followee, caller.subject(), payload).await?;
                }
            }
            emit(
                &mut tx,
                me,
                caller.subject(),
                Payload::UserBlocked(events::UserBlocked {
                    blocker_id: me.to_string(),
                    blocked_id: target.to_string(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pb::BlockUserResponse {})
    }

    pub async fn unblock(
        &self,
        caller: &UserPrincipal,
        req: pb::UnblockUserRequest,
    ) -> Result<pb::UnblockUserResponse, ApiError> {
        let me = caller.id();
        let target = ids::parse_id("user_id", &req.user_id)?;
        let mut tx = self.pool.begin().await?;
        if !store::exists(&mut tx, target).await? {
            return Err(ApiError::not_found("user"));
        }
        if graph::unblock(&mut tx, me, target).await? {
            emit(
                &mut tx,
                me,
                caller.subject(),
                Payload::UserUnblocked(events::UserUnblocked {
                    blocker_id: me.to_string(),
                    blocked_id: target.to_string(),
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(pb::UnblockUserResponse {})
    }

    pub async fn get_relationships(
        &self,
        caller: &UserPrincipal,
        req: pb::GetRelationshipsRequest,
    ) -> Result<pb::GetRelationshipsResponse, ApiError> {
        let me = caller.id();
        if req.user_ids.is_empty() {
            return Err(ApiError::invalid_field(
                "user_ids",
                "at least one id is required",
            ));
        }
        let others = parse_ids("user_ids", &req.user_ids, MAX_RELATIONSHIP_IDS)?;
        let mut conn = self.pool.acquire().await?;
        let rows = graph::relationships(&mut conn, me, &others).await?;
        // A user who blocked the caller is invisible to them, as everywhere else.
        Ok(pb::GetRelationshipsResponse {
            relationships: rows
                .into_iter()
                .filter(|r| !r.blocked_by)
                .map(relationship)
                .collect(),
        })
    }

    pub async fn batch_get_users(
        &self,
        req: pb::BatchGetUsersRequest,
    ) -> Result<pb::BatchGetUsersResponse, ApiError> {
        let wanted = parse_ids("user_ids", &req.user_ids, MAX_BATCH_IDS)?;
        let mut conn = self.pool.acquire().await?;
        let rows: Vec<SummaryRow> = store::summaries(&mut conn, &wanted).await?;
        Ok(pb::BatchGetUsersResponse {
            users: rows.into_iter().map(convert::summary).collect(),
        })
    }

    pub async fn batch_get_relationships(
        &self,
        req: pb::BatchGetRelationshipsRequest,
    ) -> Result<pb::BatchGetRelationshipsResponse, ApiError> {
        let viewer = ids::parse_id("viewer_id", &req.viewer_id)?;
        let others = parse_ids("user_ids", &req.user_ids, MAX_BATCH_IDS)?;
        let mut conn = self.pool.acquire().await?;
        let rows = graph::relationships(&mut conn, viewer, &others).await?;
        Ok(pb::BatchGetRelationshipsResponse {
            relationships: rows.into_iter().map(relationship).collect(),
        })
    }

    /// Validates a follower-id stream request; returns (user, resume point, chunk size).
    pub async fn follower_ids_start(
        &self,
        req: &pb::ListFollowerIdsRequest,
    ) -> Result<(Uuid, Option<Uuid>, i64), ApiError> {
        let user = ids::parse_id("user_id", &req.user_id)?;
        let after = if req.after_user_id.is_empty() {
            None
        } else {
            Some(ids::parse_id("after_user_id", &req.after_user_id)?)
        };
        let chunk = match req.chunk_size {
            n if n < 0 => {
                return Err(ApiError::invalid_field(
                    "chunk_size",
                    "must not be negative",
                ));
            }
            0 => 1000,
            n => n.min(5000) as i64,
        };
        let mut conn = self.pool.acquire().await?;
        if !store::exists(&mut conn, user).await? {
            return Err(ApiError::not_found("user"));
        }
        Ok((user, after, chunk))
    }

    /// The next chunk of follower ids after `after`.
    pub async fn follower_ids_chunk(
        &self,
        user: Uuid,
        after: Option<Uuid>,
        chunk: i64,
    ) -> Result<Vec<Uuid>, ApiError> {
        let mut conn = self.pool.acquire().await?;
        Ok(graph::follower_ids(&mut conn, user, after, chunk).await?)
    }
}

fn edge(row: graph::EdgeRow) -> pb::FollowEdge {
    pb::FollowEdge {
        follow_time: convert::timestamp(row.at),
        user: Some(convert::summary(row.user)),
    }
}
