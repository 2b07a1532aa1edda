//! Conversations: the conversation rows, the one-per-pair direct claim, group settings,
//! and the per-user conversation index behind the inbox.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;

type ConversationTuple = (
    Uuid,
    Option<i16>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
    Option<i64>,
    Option<i64>,
    Option<i32>,
    Option<Uuid>,
    Option<i64>,
);

impl ScyllaMessageStore {
    pub(super) async fn conversation_tuple(
        &self,
        id: Uuid,
    ) -> anyhow::Result<Option<ConversationTuple>> {
        Ok(self
            .rows::<ConversationTuple>(&self.st.conversation, (id,))
            .await?
            .into_iter()
            .next())
    }

    #[allow(clippy::too_many_arguments)] // one column each; a struct would only rename them
    async fn write_conversation(
        &self,
        id: Uuid,
        kind: Kind,
        key: Option<&str>,
        group: Option<&NewGroup>,
        by: Uuid,
        at: DateTime<Utc>,
        count: i32,
    ) -> anyhow::Result<()> {
        let (name, description, image) = group
            .map(|g| {
                (
                    g.name.as_str(),
                    g.description.as_str(),
                    g.image_url.as_str(),
                )
            })
            .unwrap_or(("", "", ""));
        let bucket = self.bucket(at.timestamp_millis());
        self.exec(
            &self.st.insert_conversation,
            (
                id,
                kind.code(),
                key,
                name,
                description,
                image,
                by,
                micros(at),
                bucket,
                count,
            ),
        )
        .await
    }

    pub(super) async fn open_direct(
        &self,
        id: Uuid,
        a: Uuid,
        b: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<(ConversationRow, bool)> {
        let key = direct_key(a, b);
        self.exec(&self.st.claim_pair, (&key, id)).await?;
        let (winner,): (Uuid,) = self
            .rows(&self.st.read_pair, (&key,))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("direct pair vanished"))?;
        let created = winner == id;
        // Written by the winner; rewritten (idempotently) if it died before writing.
        if created || self.conversation_tuple(winner).await?.is_none() {
            self.write_conversation(winner, Kind::Direct, Some(&key), None, a, at, 2)
                .await?;
            self.join(winner, a, Role::Member, Kind::Direct, at).await?;
            self.join(winner, b, Role::Member, Kind::Direct, at).await?;
        }
        let row = self
            .conversation(winner)
            .await?
            .ok_or_else(|| anyhow::anyhow!("direct conversation vanished"))?;
        Ok((row, created))
    }

    pub(super) async fn create_group(&self, group: &NewGroup) -> StoreResult<ConversationRow> {
        self.write_conversation(
            group.id,
            Kind::Group,
            None,
            Some(group),
            group.owner,
            group.at,
            1 + group.members.len() as i32,
        )
        .await?;
        self.join(group.id, group.owner, Role::Owner, Kind::Group, group.at)
            .await?;
        for member in &group.members {
            self.join(group.id, *member, Role::Member, Kind::Group, group.at)
                .await?;
        }
        self.conversation(group.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("group vanished"))
    }

    pub(super) async fn conversation(&self, id: Uuid) -> StoreResult<Option<ConversationRow>> {
        let Some(t) = self.conversation_tuple(id).await? else {
            return Ok(None);
        };
        let last_message = match t.9 {
            Some(mid) => self.message(id, mid).await?,
            None => None,
        };
        let created_at = from_micros(t.6.unwrap_or_default());
        Ok(Some(ConversationRow {
            id,
            kind: Kind::from_code(t.1.unwrap_or(1)),
            name: t.2.unwrap_or_default(),
            description: t.3.unwrap_or_default(),
            image_url: t.4.unwrap_or_default(),
            created_by: t.5.unwrap_or_default(),
            created_at,
            last_message,
            last_activity_at: t.10.map(from_micros).unwrap_or(created_at),
            member_count: t.8.unwrap_or(0),
        }))
    }

    pub(super) async fn update_group(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        image_url: &str,
    ) -> StoreResult<()> {
        self.exec(&self.st.update_group, (name, description, image_url, id))
            .await
    }

    pub(super) async fn delete_conversation(&self, conversation: Uuid) -> StoreResult<()> {
        for p in self.participants(conversation).await? {
            self.exec(&self.st.delete_user_conversation, (p.user_id, conversation))
                .await?;
        }
        self.exec(&self.st.delete_participants, (conversation,))
            .await?;
        // Message partitions are left to expire with the keyspace's retention policy.
        self.exec(&self.st.delete_conversation, (conversation,))
            .await
    }

    pub(super) async fn inbox(
        &self,
        user: Uuid,
        after: Option<InboxCursor>,
        limit: usize,
        groups_only: bool,
    ) -> StoreResult<Vec<InboxRow>> {
        let ids: Vec<(Uuid, Option<i16>)> = self.rows(&self.st.user_conversations, (user,)).await?;
        let mut rows = Vec::new();
        for (id, kind) in ids {
            if groups_only && kind != Some(Kind::Group.code()) {
                continue;
            }
            let (Some(conversation), Some(me)) = (
                self.conversation(id).await?,
                self.participant(id, user).await?,
            ) else {
                continue;
            };
            let visible = conversation.kind == Kind::Group
                || conversation.last_message.is_some()
                || conversation.created_by == user;
            if !visible {
                continue;
            }
            if after.is_some_and(|(at, cid)| {
                (conversation.last_activity_at, conversation.id) >= (at, cid)
            }) {
                continue;
            }
            rows.push(InboxRow { conversation, me });
        }
        rows.sort_by(|a, b| {
            (b.conversation.last_activity_at, b.conversation.id)
                .cmp(&(a.conversation.last_activity_at, a.conversation.id))
        });
        rows.truncate(limit);
        Ok(rows)
    }

    pub(super) async fn conversation_ids(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid, Option<i16>)> =
            self.rows(&self.st.user_conversations, (user,)).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub(super) async fn direct_contacts(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid, Option<i16>)> =
            self.rows(&self.st.user_conversations, (user,)).await?;
        let mut out = Vec::new();
        for (id, kind) in rows {
            if kind == Some(Kind::Direct.code()) {
                out.extend(
                    self.participants(id)
                        .await?
                        .into_iter()
                        .map(|p| p.user_id)
                        .filter(|u| *u != user),
                );
            }
        }
        Ok(out)
    }
}
