//! The ScyllaDB `MessageStore`: messages partitioned by (conversation_id, time bucket)
//! and clustered newest first; lightweight transactions where uniqueness matters (one
//! direct conversation per pair, one message per request id, the member limit, read
//! positions that only move forward); LOCAL_QUORUM everywhere else. Schema:
//! `migrations/scylla/messaging/0001_messages.cql`, applied at startup.

use std::time::Duration;

use ::scylla::client::session::Session;
use ::scylla::deserialize::row::DeserializeRow;
use ::scylla::serialize::row::SerializeRow;
use ::scylla::statement::prepared::PreparedStatement;
use ::scylla::value::{CqlValue, Row};
use chrono::{DateTime, Utc};
use tribe_kit::scylla::{CqlConfig, CqlResultExt};
use uuid::Uuid;

use super::*;

mod statements;

use statements::Statements;

const SCHEMA: &str = include_str!("../../../../../migrations/scylla/messaging/0001_messages.cql");
/// Messages scanned per conversation by a search (Scylla has no text index).
const SEARCH_SCAN: usize = 2000;

pub struct ScyllaMessageStore {
    session: Session,
    st: Statements,
    bucket_ms: i64,
}

impl std::fmt::Debug for ScyllaMessageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScyllaMessageStore")
            .field("bucket_ms", &self.bucket_ms)
            .finish_non_exhaustive()
    }
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or_default()
}

/// Milliseconds of a UUIDv7's timestamp.
fn id_ms(id: Uuid) -> i64 {
    uuid_time(id).timestamp_millis()
}

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
type ParticipantTuple = (
    Uuid,
    Uuid,
    Option<i16>,
    Option<i64>,
    Option<Uuid>,
    Option<i64>,
);
type MessageTuple = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
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

fn message_row(t: MessageTuple) -> MessageRow {
    MessageRow {
        conversation_id: t.0,
        id: t.1,
        sender_id: t.2.unwrap_or_default(),
        text: t.3.unwrap_or_default(),
        media_url: t.4.unwrap_or_default(),
        created_at: from_micros(t.5.unwrap_or_default()),
    }
}

impl ScyllaMessageStore {
    /// Connects, creates the keyspace and tables if missing, and prepares every statement.
    pub async fn connect(config: &CqlConfig, bucket: Duration) -> anyhow::Result<Self> {
        let session = tribe_kit::scylla::connect(config, SCHEMA).await?;
        let st = Statements::prepare(&session).await?;
        Ok(Self {
            session,
            st,
            bucket_ms: (bucket.as_millis() as i64).max(1),
        })
    }

    fn bucket(&self, ms: i64) -> i64 {
        ms.div_euclid(self.bucket_ms)
    }

    async fn rows<R>(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
    ) -> anyhow::Result<Vec<R>>
    where
        R: for<'f> DeserializeRow<'f, 'f>,
    {
        let result = self
            .session
            .execute_unpaged(st, values)
            .await
            .cql()?
            .into_rows_result()?;
        Ok(result.rows::<R>()?.collect::<Result<Vec<R>, _>>()?)
    }

    async fn exec(&self, st: &PreparedStatement, values: impl SerializeRow) -> anyhow::Result<()> {
        self.session.execute_unpaged(st, values).await.cql()?;
        Ok(())
    }

    /// Runs a conditional statement; true when it was applied. `[applied]` is the first
    /// column of an LWT's result on ScyllaDB and Cassandra alike; a failed one adds the
    /// current values after it, which callers re-read instead (LOCAL_SERIAL).
    async fn applied(
        &self,
        st: &PreparedStatement,
        values: impl SerializeRow,
    ) -> anyhow::Result<bool> {
        let rows: Vec<Row> = self.rows(st, values).await?;
        Ok(matches!(
            rows.first().and_then(|r| r.columns.first()),
            Some(Some(CqlValue::Boolean(true)))
        ))
    }

    async fn conversation_tuple(&self, id: Uuid) -> anyhow::Result<Option<ConversationTuple>> {
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

    async fn join(
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

    async fn write_message(&self, m: &MessageRow) -> anyhow::Result<()> {
        let ms = id_ms(m.id);
        self.exec(
            &self.st.insert_message,
            (
                m.conversation_id,
                self.bucket(ms),
                ms,
                m.id,
                m.sender_id,
                &m.text,
                &m.media_url,
                micros(m.created_at),
            ),
        )
        .await?;
        // Last write wins by message time: a late, older message cannot hide a newer one.
        self.exec(
            &self.st.set_last,
            (
                micros(m.created_at),
                m.id,
                micros(m.created_at),
                m.conversation_id,
            ),
        )
        .await
    }

    /// Messages of one bucket, newest first, older than `before` when given.
    async fn bucket_page(
        &self,
        conversation: Uuid,
        bucket: i64,
        before: Option<Uuid>,
        limit: usize,
    ) -> anyhow::Result<Vec<MessageRow>> {
        let limit = limit.min(i32::MAX as usize) as i32;
        let rows: Vec<MessageTuple> = match before {
            Some(id) => {
                self.rows(
                    &self.st.bucket_page_before,
                    (conversation, bucket, id_ms(id), id, limit),
                )
                .await?
            }
            None => {
                self.rows(&self.st.bucket_page, (conversation, bucket, limit))
                    .await?
            }
        };
        Ok(rows.into_iter().map(message_row).collect())
    }
}

#[async_trait::async_trait]
impl MessageStore for ScyllaMessageStore {
    async fn open_direct(
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

    async fn create_group(&self, group: &NewGroup) -> StoreResult<ConversationRow> {
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

    async fn conversation(&self, id: Uuid) -> StoreResult<Option<ConversationRow>> {
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

    async fn participant(
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

    async fn participants(&self, conversation: Uuid) -> StoreResult<Vec<ParticipantRow>> {
        let mut rows: Vec<ParticipantRow> = self
            .rows::<ParticipantTuple>(&self.st.participants, (conversation,))
            .await?
            .into_iter()
            .map(participant_row)
            .collect();
        rows.sort_by_key(|a| (a.role, a.joined_at, a.user_id));
        Ok(rows)
    }

    async fn update_group(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        image_url: &str,
    ) -> StoreResult<()> {
        self.exec(&self.st.update_group, (name, description, image_url, id))
            .await
    }

    async fn add_member(
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

    async fn remove_member(&self, conversation: Uuid, user: Uuid) -> StoreResult<bool> {
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

    async fn set_role(&self, conversation: Uuid, user: Uuid, role: Role) -> StoreResult<()> {
        self.exec(&self.st.set_role, (role.code(), conversation, user))
            .await
    }

    async fn delete_conversation(&self, conversation: Uuid) -> StoreResult<()> {
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

    async fn insert_message(&self, new: &NewMessage) -> StoreResult<Inserted> {
        let m = &new.message;
        self.exec(
            &self.st.claim_request,
            (
                m.sender_id,
                &new.request_id,
                m.conversation_id,
                m.id,
                &new.request_hash,
            ),
        )
        .await?;
        let (conversation, id, hash): (Uuid, Uuid, Vec<u8>) = self
            .rows(&self.st.read_request, (m.sender_id, &new.request_id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("request claim vanished"))?;
        if id == m.id {
            self.write_message(m).await?;
            return Ok(Inserted::Fresh(m.clone()));
        }
        if hash != new.request_hash || conversation != m.conversation_id {
            return Ok(Inserted::Reused);
        }
        match self.message(conversation, id).await? {
            Some(stored) => Ok(Inserted::Replayed(stored)),
            None => {
                // The first attempt died between its claim and its write: same parameters
                // (same hash), so complete it under the claimed id.
                let repaired = MessageRow {
                    id,
                    created_at: uuid_time(id),
                    ..m.clone()
                };
                self.write_message(&repaired).await?;
                Ok(Inserted::Replayed(repaired))
            }
        }
    }

    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<MessageRow>> {
        let ms = id_ms(id);
        let rows: Vec<MessageTuple> = self
            .rows(&self.st.message, (conversation, self.bucket(ms), ms, id))
            .await?;
        Ok(rows.into_iter().next().map(message_row))
    }

    async fn list_messages(
        &self,
        conversation: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let Some(t) = self.conversation_tuple(conversation).await? else {
            return Ok(Vec::new());
        };
        let first = t.7.unwrap_or_default();
        let start = match (before, t.9) {
            (Some(id), _) | (None, Some(id)) => id,
            (None, None) => return Ok(Vec::new()),
        };
        let mut bucket = self.bucket(id_ms(start));
        let mut out = Vec::with_capacity(limit);
        let mut cursor = before;
        while bucket >= first && out.len() < limit {
            let page = self
                .bucket_page(conversation, bucket, cursor.take(), limit - out.len())
                .await?;
            out.extend(page);
            bucket -= 1;
        }
        Ok(out)
    }

    async fn inbox(
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

    async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        message: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ParticipantRow>> {
        for _ in 0..10 {
            let Some(current) = self.participant(conversation, user).await? else {
                return Ok(None);
            };
            if current.last_read_message_id.is_some_and(|r| r >= message) {
                return Ok(Some(current));
            }
            if self
                .applied(
                    &self.st.cas_read,
                    (
                        message,
                        micros(at),
                        conversation,
                        user,
                        current.last_read_message_id,
                    ),
                )
                .await?
            {
                return self.participant(conversation, user).await;
            }
        }
        anyhow::bail!("read position contention")
    }

    async fn unread_count(
        &self,
        conversation: Uuid,
        user: Uuid,
        after: Option<Uuid>,
        cap: i64,
    ) -> StoreResult<i64> {
        let Some(t) = self.conversation_tuple(conversation).await? else {
            return Ok(0);
        };
        let Some(last) = t.9 else { return Ok(0) };
        let floor = after.unwrap_or(Uuid::nil());
        let stop = match after {
            Some(id) => self.bucket(id_ms(id)),
            None => t.7.unwrap_or_default(),
        };
        let (floor_ms, limit) = (
            if after.is_some() {
                id_ms(floor)
            } else {
                i64::MIN
            },
            cap.min(i32::MAX as i64) as i32,
        );
        let mut count = 0;
        let mut bucket = self.bucket(id_ms(last));
        while bucket >= stop && count < cap {
            let senders: Vec<(Option<Uuid>,)> = self
                .rows(
                    &self.st.senders_after,
                    (conversation, bucket, floor_ms, floor, limit),
                )
                .await?;
            count += senders.iter().filter(|(s,)| *s != Some(user)).count() as i64;
            bucket -= 1;
        }
        Ok(count.min(cap))
    }

    async fn search(
        &self,
        conversations: &[Uuid],
        words: &[String],
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let mut hits = Vec::new();
        for conversation in conversations {
            let mut cursor = before;
            let mut scanned = 0;
            loop {
                let page = self.list_messages(*conversation, cursor, 200).await?;
                let Some(last) = page.last() else { break };
                cursor = Some(last.id);
                scanned += page.len();
                let full = page.len() == 200;
                let mut found: Vec<MessageRow> = page
                    .into_iter()
                    .filter(|m| {
                        let text = m.text.to_lowercase();
                        words.iter().all(|w| text.contains(w.as_str()))
                    })
                    .collect();
                let enough = found.len() >= limit;
                hits.append(&mut found);
                if !full || enough || scanned >= SEARCH_SCAN {
                    break;
                }
            }
        }
        hits.sort_by_key(|b| std::cmp::Reverse(b.id));
        hits.truncate(limit);
        Ok(hits)
    }

    async fn conversation_ids(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        let rows: Vec<(Uuid, Option<i16>)> =
            self.rows(&self.st.user_conversations, (user,)).await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    async fn direct_contacts(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cql_schema_splits_into_its_tables() {
        let statements = tribe_kit::scylla::schema_statements(SCHEMA);
        let tables: Vec<&str> = statements
            .iter()
            .filter_map(|s| s.strip_prefix("CREATE TABLE IF NOT EXISTS "))
            .filter_map(|s| s.split_whitespace().next())
            .collect();
        assert_eq!(
            tables,
            [
                "conversations",
                "direct_pairs",
                "participants",
                "user_conversations",
                "messages",
                "message_requests"
            ]
        );
        assert_eq!(
            statements.len(),
            tables.len(),
            "only idempotent CREATE TABLE statements: {statements:?}"
        );
        assert!(
            statements.iter().all(|s| !s.contains("--")),
            "comments are stripped"
        );
    }

    #[test]
    fn message_times_map_to_buckets_and_back() {
        let at = DateTime::from_timestamp_millis(1_795_000_000_123).unwrap_or_default();
        let id = Uuid::new_v7(uuid::Timestamp::from_unix(
            uuid::NoContext,
            at.timestamp() as u64,
            at.timestamp_subsec_nanos(),
        ));
        assert_eq!(
            id_ms(id),
            at.timestamp_millis(),
            "the id carries its millisecond"
        );
        let day = 24 * 3600 * 1000;
        assert_eq!(id_ms(id).div_euclid(day), 1_795_000_000_123 / day);
        assert_eq!(from_micros(micros(at)), at);
    }
}
