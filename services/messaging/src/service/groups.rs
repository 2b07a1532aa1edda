//! Groups: creation (idempotent by request id), updates, members and roles.

use chrono::Utc;
use prost::Message as _;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::idempotency::{self, Claim};
use tribe_kit::page::{self, FilterHash, Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use uuid::Uuid;

use super::*;
use crate::domain::{Description, GroupName, HttpsUrl};
use crate::live::ephemeral::Action;
use crate::store::{Added, Kind, NewGroup, user_replica};

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
    async fn group(
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

    pub async fn list_group_members(
        &self,
        caller: &UserPrincipal,
        req: pb::ListGroupMembersRequest,
    ) -> Result<pb::ListGroupMembersResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let id = parse_id(&mut v, "conversation_id", &req.conversation_id);
        let limit = v.check(
            "page_size",
            page::page_size(req.page_size).map_err(|_| "must not be negative"),
        );
        v.finish()?;
        let (Some(id), Some(limit)) = (id, limit) else {
            return Err(not_found());
        };
        let limit = limit as usize;
        self.group(id, me).await?;
        let hash = FilterHash::new()
            .add("conversation_id", id.as_bytes())
            .finish();
        let scope = PageScope {
            method: "ListGroupMembers",
            subject_id: caller.subject(),
            filter_hash: &hash,
        };
        let after = match self.d.pages.decode(scope, &req.page_token)?.as_deref() {
            None => None,
            Some([Key::Int(role), Key::Int(joined), Key::Str(user)]) => {
                Some((*role, *joined, user.clone()))
            }
            Some(_) => {
                return Err(ApiError::invalid_field(
                    "page_token",
                    "malformed page token",
                ));
            }
        };
        let key = |p: &ParticipantRow| {
            (
                p.role.code() as i64,
                p.joined_at.timestamp_micros(),
                p.user_id.to_string(),
            )
        };
        // At most 256 rows: the keyset is applied in memory.
        let mut rows: Vec<ParticipantRow> = self
            .d
            .store
            .participants(id)
            .await
            .map_err(internal)?
            .into_iter()
            .filter(|p| after.as_ref().is_none_or(|a| key(p) > *a))
            .take(limit + 1)
            .collect();
        let next_page_token = self.d.pages.next_token(scope, &mut rows, limit, |p| {
            let (r, j, u) = key(p);
            vec![Key::Int(r), Key::Int(j), Key::Str(u)]
        });
        let ids: Vec<Uuid> = rows.iter().map(|p| p.user_id).collect();
        let users = self.summaries(&ids).await?;
        Ok(pb::ListGroupMembersResponse {
            members: rows
                .iter()
                .map(|p| convert::participant(p, &users))
                .collect(),
            next_page_token,
        })
    }

    /// Tells every current member (and `also`, a member who just left) about a change.
    async fn announce(
        &self,
        conversation: Uuid,
        user: Uuid,
        actor: Uuid,
        kind: pb::MembershipChangeType,
        role: Option<Role>,
        also: Option<Uuid>,
    ) -> Result<(), ApiError> {
        let mut targets: Vec<Uuid> = self
            .d
            .store
            .participants(conversation)
            .await
            .map_err(internal)?
            .iter()
            .map(|p| p.user_id)
            .collect();
        targets.extend(also);
        let users = self.summaries(&[user, actor]).await?;
        let change = pb::MembershipChange {
            conversation_id: conversation.to_string(),
            user: Some(convert::summary(&users, user)),
            r#type: kind as i32,
            role: role.map_or(pb::MemberRole::Unspecified, convert::role) as i32,
            actor: Some(convert::summary(&users, actor)),
            change_time: Some(convert::ts(Utc::now())),
        };
        self.d
            .hub
            .publish(
                &targets,
                &pb::StreamEventsResponse {
                    event: Some(Event::MembershipChange(change)),
                },
            )
            .await;
        Ok(())
    }

    fn membership_event(
        conversation: Uuid,
        user: Uuid,
        actor: Uuid,
        change: ev::MessagingMembershipChange,
    ) -> Payload {
        Payload::GroupMembershipChanged(ev::GroupMembershipChanged {
            conversation_id: conversation.to_string(),
            user_id: user.to_string(),
            change: change as i32,
            actor_id: actor.to_string(),
        })
    }

    pub async fn add_group_member(
        &self,
        caller: &UserPrincipal,
        req: pb::AddGroupMemberRequest,
    ) -> Result<pb::AddGroupMemberResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let id = parse_id(&mut v, "conversation_id", &req.conversation_id);
        let user = parse_id(&mut v, "user_id", &req.user_id);
        v.finish()?;
        let (Some(id), Some(user)) = (id, user) else {
            return Err(not_found());
        };
        let (_, mine) = self.group(id, me).await?;
        if !is_admin(mine.role) {
            return Err(ApiError::permission_denied(
                "only the group's owner and admins may add members",
            ));
        }
        if user != me {
            self.check_blocks(me, user).await?;
            self.ensure_users_exist(&[user]).await?;
        }
        let added = self
            .d
            .store
            .add_member(id, user, now(), self.d.limits.max_group_members)
            .await
            .map_err(internal)?;
        let member = match added {
            Added::AlreadyMember(_) => {
                return Err(ApiError::already_exists(
                    "ALREADY_MEMBER",
                    "the user is already a member of the group",
                ));
            }
            Added::Full => {
                return Err(ApiError::failed_precondition(
                    "GROUP_FULL",
                    format!(
                        "a group holds at most {} members",
                        self.d.limits.max_group_members
                    ),
                ));
            }
            Added::NoGroup => return Err(not_found()),
            Added::Added(p) => {
                self.emit(
                    id,
                    me,
                    Self::membership_event(id, user, me, ev::MessagingMembershipChange::Added),
                    None,
                )
                .await?;
                self.push_views(id, Some(user)).await?;
                self.announce(
                    id,
                    user,
                    me,
                    pb::MembershipChangeType::Added,
                    Some(Role::Member),
                    None,
                )
                .await?;
                p
            }
        };
        let users = self.summaries(&[user]).await?;
        Ok(pb::AddGroupMemberResponse {
            member: Some(convert::participant(&member, &users)),
        })
    }

    pub async fn remove_group_member(
        &self,
        caller: &UserPrincipal,
        req: pb::RemoveGroupMemberRequest,
    ) -> Result<pb::RemoveGroupMemberResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let id = parse_id(&mut v, "conversation_id", &req.conversation_id);
        let user = parse_id(&mut v, "user_id", &req.user_id);
        v.finish()?;
        let (Some(id), Some(user)) = (id, user) else {
            return Err(not_found());
        };
        if user == me {
            self.leave(id, me).await?;
            return Ok(pb::RemoveGroupMemberResponse {});
        }
        let (_, mine) = self.group(id, me).await?;
        if !is_admin(mine.role) {
            return Err(ApiError::permission_denied(
                "only the group's owner and admins may remove members",
            ));
        }
        let Some(target) = self.d.store.participant(id, user).await.map_err(internal)? else {
            return Ok(pb::RemoveGroupMemberResponse {});
        };
        if mine.role == Role::Admin && target.role != Role::Member {
            return Err(ApiError::permission_denied(
                "admins may remove plain members only",
            ));
        }
        // Under the conversation's send lock: a message being sent right now is published
        // before the removal, and none after it reaches the removed member.
        let _ordered = self.send_lock(id).lock().await;
        if self
            .d
            .store
            .remove_member(id, user)
            .await
            .map_err(internal)?
        {
            self.emit(
                id,
                me,
                Self::membership_event(id, user, me, ev::MessagingMembershipChange::Removed),
                None,
            )
            .await?;
            self.announce(
                id,
                user,
                me,
                pb::MembershipChangeType::Removed,
                None,
                Some(user),
            )
            .await?;
            let _ = self.d.ephemeral.set_unread_one(user, id, None).await;
        }
        Ok(pb::RemoveGroupMemberResponse {})
    }

    pub async fn leave_group(
        &self,
        caller: &UserPrincipal,
        req: pb::LeaveGroupRequest,
    ) -> Result<pb::LeaveGroupResponse, ApiError> {
        let me = caller.id();
        let id = tribe_kit::ids::parse_id("conversation_id", &req.conversation_id)?;
        self.leave(id, me).await?;
        Ok(pb::LeaveGroupResponse {})
    }

    async fn leave(&self, id: Uuid, me: Uuid) -> Result<(), ApiError> {
        let (_, mine) = self.group(id, me).await?;
        let _ordered = self.send_lock(id).lock().await;
        if !self.d.store.remove_member(id, me).await.map_err(internal)? {
            return Err(not_found());
        }
        self.emit(
            id,
            me,
            Self::membership_event(id, me, me, ev::MessagingMembershipChange::Left),
            None,
        )
        .await?;
        let _ = self.d.ephemeral.set_unread_one(me, id, None).await;
        let rest = self.d.store.participants(id).await.map_err(internal)?;
        if rest.is_empty() {
            self.d
                .store
                .delete_conversation(id)
                .await
                .map_err(internal)?;
            self.announce(id, me, me, pb::MembershipChangeType::Left, None, Some(me))
                .await?;
            return Ok(());
        }
        self.announce(id, me, me, pb::MembershipChangeType::Left, None, Some(me))
            .await?;
        if mine.role == Role::Owner {
            // Longest-standing admin, else longest-standing member (the list is ordered).
            let heir = rest
                .iter()
                .find(|p| p.role == Role::Admin)
                .or_else(|| rest.first())
                .map(|p| p.user_id);
            if let Some(heir) = heir {
                self.d
                    .store
                    .set_role(id, heir, Role::Owner)
                    .await
                    .map_err(internal)?;
                self.announce(
                    id,
                    heir,
                    me,
                    pb::MembershipChangeType::RoleChanged,
                    Some(Role::Owner),
                    None,
                )
                .await?;
            }
        }
        Ok(())
    }

    pub async fn set_group_member_role(
        &self,
        caller: &UserPrincipal,
        req: pb::SetGroupMemberRoleRequest,
    ) -> Result<pb::SetGroupMemberRoleResponse, ApiError> {
        let me = caller.id();
        let mut v = Violations::new();
        let id = parse_id(&mut v, "conversation_id", &req.conversation_id);
        let user = parse_id(&mut v, "user_id", &req.user_id);
        if user == Some(me) {
            v.add("user_id", "cannot change your own role");
        }
        let role = match pb::MemberRole::try_from(req.role) {
            Ok(pb::MemberRole::Owner) => Some(Role::Owner),
            Ok(pb::MemberRole::Admin) => Some(Role::Admin),
            Ok(pb::MemberRole::Member) => Some(Role::Member),
            _ => {
                v.add("role", "must be OWNER, ADMIN or MEMBER");
                None
            }
        };
        v.finish()?;
        let (Some(id), Some(user), Some(role)) = (id, user, role) else {
            return Err(not_found());
        };
        let (_, mine) = self.group(id, me).await?;
        if mine.role != Role::Owner {
            return Err(ApiError::permission_denied(
                "only the group's owner may change roles",
            ));
        }
        let target = self
            .d
            .store
            .participant(id, user)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("member"))?;
        if target.role != role {
            self.d
                .store
                .set_role(id, user, role)
                .await
                .map_err(internal)?;
            if role == Role::Owner {
                self.d
                    .store
                    .set_role(id, me, Role::Admin)
                    .await
                    .map_err(internal)?;
                self.announce(
                    id,
                    me,
                    me,
                    pb::MembershipChangeType::RoleChanged,
                    Some(Role::Admin),
                    None,
                )
                .await?;
            }
            self.announce(
                id,
                user,
                me,
                pb::MembershipChangeType::RoleChanged,
                Some(role),
                None,
            )
            .await?;
        }
        let member = self
            .d
            .store
            .participant(id, user)
            .await
            .map_err(internal)?
            .ok_or_else(|| ApiError::not_found("member"))?;
        let users = self.summaries(&[user]).await?;
        Ok(pb::SetGroupMemberRoleResponse {
            member: Some(convert::participant(&member, &users)),
        })
    }
}
