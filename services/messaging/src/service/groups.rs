//! Groups: creation (idempotent by request id), listing and settings updates. Members
//! and roles are in `group_members`.

use prost::Message as _;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use uuid::Uuid;

use super::*;
use crate::domain::{Description, GroupName, HttpsUrl};
use crate::live::ephemeral::Action;
use crate::store::{Kind, NewGroup, user_replica};

const MAX_INITIAL_MEMBERS: usize = 255;

impl Messaging {
    pub async fn create_group(
        &self,
        caller: &UserPrincipal,
        req: pb::CreateGroupRequest,
    ) -> Result<pb::CreateGroupResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let name = v.check("name", GroupName::parse(&req.name));
        let description = v.check("description", Description::parse(&req.description));
        let image_url = v.check("image_url", HttpsUrl::parse(&req.image_url));
        if req.member_ids.len() > MAX_INITIAL_MEMBERS {
            v.add(
                "member_ids",
                format!(
                    "at most {MAX_INITIAL_MEMBERS} members besides the owner (groups hold 256)"
                ),
            );
        }
        let mut members: Vec<Uuid> = Vec::new();
        for (i, raw) in req.member_ids.iter().enumerate() {
            let field = format!("member_ids[{i}]");
            if let Some(id) = parse_id(&mut v, &field, raw) {
                if id == me {
                    v.add(field, "the creator is a member already");
                } else if members.contains(&id) {
                    v.add(field, "duplicate member id");
                } else {
                    members.push(id);
                }
            }
        }
        if let Err(ApiError::InvalidArgument { violations, .. }) =
            tribe_kit::ids::parse_request_id(&req.request_id)
        {
            for one in violations {
                v.add(one.field, one.description);
            }
        }
        v.finish()?;
        let (Some(name), Some(description), Some(image_url)) = (name, description, image_url)
        else {
            return Err(ApiError::invalid_field("name", "invalid"));
        };
        if members.len() as i32 + 1 > self.d.limits.max_group_members {
            return Err(ApiError::failed_precondition(
                "GROUP_FULL",
                "too many members for one group",
            ));
        }
        {
            let mut conn = self.d.pool.acquire().await?;
            for m in &members {
                if user_replica::is_blocked(&mut conn, *m, me).await? {
                    return Err(ApiError::not_found("user"));
                }
                if user_replica::is_blocked(&mut conn, me, *m).await? {
                    return Err(ApiError::failed_precondition(
                        "BLOCKED",
                        "you blocked a member",
                    ));
                }
            }
        }

        self.ensure_users_exist(&members).await?;
        let params = pb::CreateGroupRequest {
            request_id: String::new(),
            ..req.clone()
        }
        .encode_to_vec();
        // A retry of a created group replays below without counting; only new claims count.
        let hash = idempotency::request_hash(&params);
        let mut tx = self.d.pool.begin().await?;
        match idempotency::claim(
            &mut tx,
            caller.subject(),
            "CreateGroup",
            &req.request_id,
            &hash,
        )
        .await?
        {
            Claim::Replay(bytes) => {
                tx.rollback().await?;
                return pb::CreateGroupResponse::decode(bytes.as_slice())
                    .map_err(ApiError::internal);
            }
            Claim::Fresh => {}
        }
        match self
            .d
            .ephemeral
            .allow(
                Action::CreateGroup,
                me,
                self.d.limits.groups_per_hour,
                std::time::Duration::from_secs(3600),
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                return Err(ApiError::exhausted(
                    "RATE_LIMITED",
                    "too many new groups; try again later",
                ));
            }
            Err(err) => tracing::warn!(error = format!("{err:#}"), "group rate limit unavailable"),
        }
        // The id follows from the request, so a retry after a crash between the store write
        // and the commit of the request record writes the same group, not a second one.
        let params_hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
        let group_id = tribe_kit::ids::derived_id(&[
            "CreateGroup",
            caller.subject(),
            &req.request_id,
            &params_hex,
        ]);
        let group = NewGroup {
            id: group_id,
            owner: me,
            members: members.clone(),
            name: name.into_string(),
            description: description.into_string(),
            image_url: image_url.into_string(),
            at: now(),
        };
        let row = self.d.store.create_group(&group).await.map_err(internal)?;
        let owner = self
            .d
            .store
            .participant(row.id, me)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        let response = pb::CreateGroupResponse {
            conversation: Some(self.view(&row, &owner).await?),
        };
        let payload = Payload::ConversationCreated(ev::ConversationCreated {
            conversation_id: row.id.to_string(),
            creator_id: me.to_string(),
            participant_ids: std::iter::once(me)
                .chain(members)
                .map(|u| u.to_string())
                .collect(),
            is_group: true,
        });
        emit_on(&mut tx, row.id, me, payload, None).await?;
        idempotency::complete(
            &mut tx,
            caller.subject(),
            "CreateGroup",
            &req.request_id,
            &response.encode_to_vec(),
        )
        .await?;
        tx.commit().await?;
        self.push_views(row.id, None).await?;
        Ok(response)
    }

    pub async fn list_groups(
        &self,
        caller: &UserPrincipal,
        req: pb::ListGroupsRequest,
    ) -> Result<pb::ListGroupsResponse, ApiError> {
        let (conversations, next_page_token) = self
            .inbox_page(caller, "ListGroups", req.page_size, &req.page_token, true)
            .await?;
        Ok(pb::ListGroupsResponse {
            conversations,
            next_page_token,
        })
    }

    /// The group and the caller's membership; NOT_FOUND for non-members,
    /// FAILED_PRECONDITION NOT_A_GROUP for a direct conversation.
    pub(super) async fn group(
        &self,
        conversation: Uuid,
        me: Uuid,
    ) -> Result<(ConversationRow, ParticipantRow), ApiError> {
        let (row, mine) = self.membership(conversation, me).await?;
        if row.kind != Kind::Group {
            return Err(ApiError::failed_precondition(
                "NOT_A_GROUP",
                "a direct conversation has no group settings or members",
            ));
        }
        Ok((row, mine))
    }

    pub async fn update_group(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdateGroupRequest,
    ) -> Result<pb::UpdateGroupResponse, ApiError> {
        let me = caller.id();
        let conv = req.conversation.unwrap_or_default();
        let paths = req.update_mask.map(|m| m.paths).unwrap_or_default();
        let mut v = Violations::new();
        let id = parse_id(
            &mut v,
            "conversation.conversation_id",
            &conv.conversation_id,
        );
        if paths.is_empty() {
            v.add("update_mask", "is required");
        }
        for p in &paths {
            if !matches!(p.as_str(), "name" | "description" | "image_url") {
                v.add("update_mask", format!("unknown or immutable path {p:?}"));
            }
        }
        let has = |p: &str| paths.iter().any(|x| x == p);
        let name = if has("name") {
            v.check("conversation.name", GroupName::parse(&conv.name))
        } else {
            None
        };
        let description = if has("description") {
            v.check(
                "conversation.description",
                Description::parse(&conv.description),
            )
        } else {
            None
        };
        let image_url = if has("image_url") {
            v.check("conversation.image_url", HttpsUrl::parse(&conv.image_url))
        } else {
            None
        };
        v.finish()?;
        let Some(id) = id else {
            return Err(not_found());
        };
        let (row, mine) = self.group(id, me).await?;
        if !is_admin(mine.role) {
            return Err(ApiError::permission_denied(
                "only the group's owner and admins may update it",
            ));
        }
        self.d
            .store
            .update_group(
                id,
                name.as_ref().map_or(row.name.as_str(), GroupName::as_str),
                description
                    .as_ref()
                    .map_or(row.description.as_str(), Description::as_str),
                image_url
                    .as_ref()
                    .map_or(row.image_url.as_str(), HttpsUrl::as_str),
            )
            .await
            .map_err(internal)?;
        let row = self
            .d
            .store
            .conversation(id)
            .await
            .map_err(internal)?
            .ok_or_else(not_found)?;
        self.push_views(id, None).await?;
        Ok(pb::UpdateGroupResponse {
            conversation: Some(self.view(&row, &mine).await?),
        })
    }
}
