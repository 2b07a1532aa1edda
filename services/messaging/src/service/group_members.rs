//! Group members: listing, adding, removing, leaving (with ownership passing on) and
//! roles, each announced to the members and written to the outbox.

use chrono::Utc;
use tribe_kit::auth::UserPrincipal;
use tribe_kit::page::{Key, PageScope};
use tribe_kit::{ApiError, Violations};
use tribe_proto::events::v1 as ev;
use tribe_proto::events::v1::event::Payload;
use tribe_proto::messaging::v1 as pb;
use tribe_proto::messaging::v1::stream_events_response::Event;
use uuid::Uuid;

use super::*;
use crate::store::Added;

impl Messaging {
    pub async fn list_group_members(
        &self,
        caller: &UserPrincipal,
        req: pb::ListGroupMembersRequest,
    ) -> Result<pb::ListGroupMembersResponse, ApiError> {
        let me = caller.id();
        let (id, limit, hash) = conversation_page(&req.conversation_id, req.page_size)?;
        self.group(id, me).await?;
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
                self.change_role(id, heir, me, Role::Owner).await?;
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
                self.change_role(id, me, me, Role::Admin).await?;
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

    /// Gives `user` `role` in group `id` and announces it as done by `by`.
    async fn change_role(
        &self,
        id: Uuid,
        user: Uuid,
        by: Uuid,
        role: Role,
    ) -> Result<(), ApiError> {
        self.d
            .store
            .set_role(id, user, role)
            .await
            .map_err(internal)?;
        self.announce(
            id,
            user,
            by,
            pb::MembershipChangeType::RoleChanged,
            Some(role),
            None,
        )
        .await
    }
}
