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

mod conversations;
mod messages;
mod participants;
mod receipts;
mod statements;

use statements::Statements;

const SCHEMA: &str = include_str!("../../../../../migrations/scylla/messaging/0001_messages.cql");

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
}

/// Each method forwards to the inherent method of the same name in the module of its
/// resource (inherent methods take precedence over trait methods).
#[async_trait::async_trait]
impl MessageStore for ScyllaMessageStore {
    async fn open_direct(
        &self,
        id: Uuid,
        a: Uuid,
        b: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<(ConversationRow, bool)> {
        ScyllaMessageStore::open_direct(self, id, a, b, at).await
    }

    async fn create_group(&self, group: &NewGroup) -> StoreResult<ConversationRow> {
        ScyllaMessageStore::create_group(self, group).await
    }

    async fn conversation(&self, id: Uuid) -> StoreResult<Option<ConversationRow>> {
        ScyllaMessageStore::conversation(self, id).await
    }

    async fn participant(
        &self,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<Option<ParticipantRow>> {
        ScyllaMessageStore::participant(self, conversation, user).await
    }

    async fn participants(&self, conversation: Uuid) -> StoreResult<Vec<ParticipantRow>> {
        ScyllaMessageStore::participants(self, conversation).await
    }

    async fn update_group(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        image_url: &str,
    ) -> StoreResult<()> {
        ScyllaMessageStore::update_group(self, id, name, description, image_url).await
    }

    async fn add_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
        max_members: i32,
    ) -> StoreResult<Added> {
        ScyllaMessageStore::add_member(self, conversation, user, at, max_members).await
    }

    async fn remove_member(&self, conversation: Uuid, user: Uuid) -> StoreResult<bool> {
        ScyllaMessageStore::remove_member(self, conversation, user).await
    }

    async fn set_role(&self, conversation: Uuid, user: Uuid, role: Role) -> StoreResult<()> {
        ScyllaMessageStore::set_role(self, conversation, user, role).await
    }

    async fn delete_conversation(&self, conversation: Uuid) -> StoreResult<()> {
        ScyllaMessageStore::delete_conversation(self, conversation).await
    }

    async fn insert_message(&self, new: &NewMessage) -> StoreResult<Inserted> {
        ScyllaMessageStore::insert_message(self, new).await
    }

    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<MessageRow>> {
        ScyllaMessageStore::message(self, conversation, id).await
    }

    async fn list_messages(
        &self,
        conversation: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        ScyllaMessageStore::list_messages(self, conversation, before, limit).await
    }

    async fn inbox(
        &self,
        user: Uuid,
        after: Option<InboxCursor>,
        limit: usize,
        groups_only: bool,
    ) -> StoreResult<Vec<InboxRow>> {
        ScyllaMessageStore::inbox(self, user, after, limit, groups_only).await
    }

    async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        message: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ParticipantRow>> {
        ScyllaMessageStore::mark_read(self, conversation, user, message, at).await
    }

    async fn unread_count(
        &self,
        conversation: Uuid,
        user: Uuid,
        after: Option<Uuid>,
        cap: i64,
    ) -> StoreResult<i64> {
        ScyllaMessageStore::unread_count(self, conversation, user, after, cap).await
    }

    async fn search(
        &self,
        conversations: &[Uuid],
        words: &[String],
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        ScyllaMessageStore::search(self, conversations, words, before, limit).await
    }

    async fn conversation_ids(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        ScyllaMessageStore::conversation_ids(self, user).await
    }

    async fn direct_contacts(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        ScyllaMessageStore::direct_contacts(self, user).await
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
