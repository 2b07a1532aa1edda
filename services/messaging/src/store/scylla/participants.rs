//! Participants: membership rows and their user index, roles, and the member count kept
//! under the group limit by compare-and-set.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;

type ParticipantTuple = (
    Uuid,
    Uuid,
    Option<i16>,
    Option<i64>,
    Option<Uuid>,
    Option<i64>,
);

fn participant_row(t: ParticipantTuple) -> ParticipantRow {
    ParticipantRow {
        conversation_id: t.0,
        user_id: t.1,
        role: Role::from_code(t.2.unwrap_or(3)),
        joined_at: from_micros(t.3.unwrap_or_default()),
        last_read_message_id: t.4,
        read_at: t.5.map(from_micros),
    }
}

impl ScyllaMessageStore {
    pub(super) async fn join(
        &self,
        conversation: Uuid,
        user: Uuid,
        role: Role,
        kind: Kind,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        self.exec(
            &self.st.insert_participant,
            (conversation, user, role.code(), micros(at)),
        )
        .await?;
        self.exec(
            &self.st.insert_user_conversation,
            (user, conversation, kind.code()),
        )
        .await
    }

    /// Compare-and-set on member_count, retried on contention.
    async fn change_count(
        &self,
        conversation: Uuid,
        delta: i32,
        max: Option<i32>,
    ) -> anyhow::Result<bool> {
        for _ in 0..10 {
            let Some(t) = self.conversation_tuple(conversation).await? else {
                return Ok(false);
            };
            let current = t.8.unwrap_or(0);
            if max.is_some_and(|m| current + delta > m) {
                return Ok(false);
            }
            if self
                .applied(&self.st.cas_count, (current + delta, conversation, current))
                .await?
            {
                return Ok(true);
            }
        }
        anyhow::bail!("member count contention")
    }

    pub(super) async fn participant(
        &self,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<Option<ParticipantRow>> {
        Ok(self
            .rows::<ParticipantTuple>(&self.st.participant, (conversation, user))
            .await?
            .into_iter()
            .next()
            .map(participant_row))
    }

    pub(super) async fn participants(
        &self,
        conversation: Uuid,
    ) -> StoreResult<Vec<ParticipantRow>> {
        let mut rows: Vec<ParticipantRow> = self
            .rows::<ParticipantTuple>(&self.st.participants, (conversation,))
            .await?
            .into_iter()
            .map(participant_row)
            .collect();
        rows.sort_by_key(|a| (a.role, a.joined_at, a.user_id));
        Ok(rows)
    }

    pub(super) async fn add_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
        max_members: i32,
    ) -> StoreResult<Added> {
        match self.conversation_tuple(conversation).await? {
            Some(t) if t.1 == Some(Kind::Group.code()) => {}
            _ => return Ok(Added::NoGroup),
        }
        if let Some(existing) = self.participant(conversation, user).await? {
            return Ok(Added::AlreadyMember(existing));
        }
        if !self
            .change_count(conversation, 1, Some(max_members))
            .await?
        {
            return Ok(Added::Full);
        }
        self.join(conversation, user, Role::Member, Kind::Group, at)
            .await?;
        let row = self
            .participant(conversation, user)
            .await?
            .ok_or_else(|| anyhow::anyhow!("member vanished"))?;
        Ok(Added::Added(row))
    }

    pub(super) async fn remove_member(&self, conversation: Uuid, user: Uuid) -> StoreResult<bool> {
        if self.participant(conversation, user).await?.is_none() {
            return Ok(false);
        }
        self.exec(&self.st.delete_participant, (conversation, user))
            .await?;
        self.exec(&self.st.delete_user_conversation, (user, conversation))
            .await?;
        self.change_count(conversation, -1, None).await?;
        Ok(true)
    }

    pub(super) async fn set_role(
        &self,
        conversation: Uuid,
        user: Uuid,
        role: Role,
    ) -> StoreResult<()> {
        self.exec(&self.st.set_role, (role.code(), conversation, user))
            .await
    }
}
