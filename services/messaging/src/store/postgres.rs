//! The PostgreSQL `MessageStore` (database `tribe_messaging`): one row per message keyed
//! by (conversation_id, UUIDv7 id), so history reads are an index range scan newest
//! first; no buckets are needed because the primary-key index is already ordered.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::*;

#[derive(Debug, Clone)]
pub struct PgMessageStore {
    pool: PgPool,
}

impl PgMessageStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

const CONVERSATION_COLUMNS: &str = "c.id, c.kind, c.name, c.description, c.image_url, c.created_by, c.created_at, \
     c.last_activity_at, c.member_count, m.id AS m_id, m.sender_id AS m_sender, m.text AS m_text, \
     m.media_url AS m_media, m.created_at AS m_at";

const PARTICIPANT_COLUMNS: &str =
    "conversation_id, user_id, role, joined_at, last_read_message_id, read_at";

fn conversation(row: &sqlx::postgres::PgRow) -> sqlx::Result<ConversationRow> {
    let id: Uuid = row.try_get("id")?;
    let last_id: Option<Uuid> = row.try_get("m_id")?;
    let last_message = match last_id {
        Some(mid) => Some(MessageRow {
            conversation_id: id,
            id: mid,
            sender_id: row.try_get("m_sender")?,
            text: row.try_get("m_text")?,
            media_url: row.try_get("m_media")?,
            created_at: row.try_get("m_at")?,
        }),
        None => None,
    };
    Ok(ConversationRow {
        id,
        kind: Kind::from_code(row.try_get("kind")?),
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        image_url: row.try_get("image_url")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        last_message,
        last_activity_at: row.try_get("last_activity_at")?,
        member_count: row.try_get("member_count")?,
    })
}

fn participant(row: &sqlx::postgres::PgRow) -> sqlx::Result<ParticipantRow> {
    Ok(ParticipantRow {
        conversation_id: row.try_get("conversation_id")?,
        user_id: row.try_get("user_id")?,
        role: Role::from_code(row.try_get("role")?),
        joined_at: row.try_get("joined_at")?,
        last_read_message_id: row.try_get("last_read_message_id")?,
        read_at: row.try_get("read_at")?,
    })
}

fn message(row: &sqlx::postgres::PgRow) -> sqlx::Result<MessageRow> {
    Ok(MessageRow {
        conversation_id: row.try_get("conversation_id")?,
        id: row.try_get("id")?,
        sender_id: row.try_get("sender_id")?,
        text: row.try_get("text")?,
        media_url: row.try_get("media_url")?,
        created_at: row.try_get("created_at")?,
    })
}

const MESSAGE_COLUMNS: &str = "conversation_id, id, sender_id, text, media_url, created_at";

#[async_trait::async_trait]
impl MessageStore for PgMessageStore {
    async fn open_direct(
        &self,
        id: Uuid,
        a: Uuid,
        b: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<(ConversationRow, bool)> {
        let mut tx = self.pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO conversations (id, kind, direct_key, created_by, created_at, last_activity_at, member_count)
             VALUES ($1, 1, $2, $3, $4, $4, 2) ON CONFLICT (direct_key) DO NOTHING",
        )
        .bind(id)
        .bind(direct_key(a, b))
        .bind(a)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if created {
            sqlx::query("INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 3, $4), ($1, $3, 3, $4)")
                .bind(id)
                .bind(a)
                .bind(b)
                .bind(at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        let existing: Uuid =
            sqlx::query_scalar("SELECT id FROM conversations WHERE direct_key = $1")
                .bind(direct_key(a, b))
                .fetch_one(&self.pool)
                .await?;
        let row = self
            .conversation(existing)
            .await?
            .ok_or_else(|| anyhow::anyhow!("direct conversation vanished"))?;
        Ok((row, created))
    }

    async fn create_group(&self, group: &NewGroup) -> StoreResult<ConversationRow> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO conversations (id, kind, name, description, image_url, created_by, created_at, last_activity_at, member_count)
             VALUES ($1, 2, $2, $3, $4, $5, $6, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(group.id)
        .bind(&group.name)
        .bind(&group.description)
        .bind(&group.image_url)
        .bind(group.owner)
        .bind(group.at)
        .bind(1 + group.members.len() as i32)
        .execute(&mut *tx)
        .await?;
        let roles: Vec<i16> = std::iter::once(Role::Owner.code())
            .chain(group.members.iter().map(|_| Role::Member.code()))
            .collect();
        let users: Vec<Uuid> = std::iter::once(group.owner)
            .chain(group.members.iter().copied())
            .collect();
        sqlx::query(
            "INSERT INTO participants (conversation_id, user_id, role, joined_at)
             SELECT $1, u, r, $4 FROM unnest($2::uuid[], $3::smallint[]) AS t(u, r) ON CONFLICT DO NOTHING",
        )
        .bind(group.id)
        .bind(&users)
        .bind(&roles)
        .bind(group.at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.conversation(group.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("group vanished"))
    }

    async fn conversation(&self, id: Uuid) -> StoreResult<Option<ConversationRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations c
             LEFT JOIN messages m ON m.conversation_id = c.id AND m.id = c.last_message_id WHERE c.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(conversation).transpose()?)
    }

    async fn participant(
        &self,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<Option<ParticipantRow>> {
        let row = sqlx::query(&format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation_id = $1 AND user_id = $2"))
            .bind(conversation)
            .bind(user)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(participant).transpose()?)
    }

    async fn participants(&self, conversation: Uuid) -> StoreResult<Vec<ParticipantRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation_id = $1 ORDER BY role, joined_at, user_id"
        ))
        .bind(conversation)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(participant).collect::<sqlx::Result<_>>()?)
    }

    async fn update_group(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        image_url: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE conversations SET name = $2, description = $3, image_url = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(description)
        .bind(image_url)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
        max_members: i32,
    ) -> StoreResult<Added> {
        let mut tx = self.pool.begin().await?;
        // The row lock serialises concurrent adds so the member limit holds.
        let count: Option<i32> = sqlx::query_scalar(
            "SELECT member_count FROM conversations WHERE id = $1 AND kind = 2 FOR UPDATE",
        )
        .bind(conversation)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(count) = count else {
            return Ok(Added::NoGroup);
        };
        let existing = sqlx::query(&format!("SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE conversation_id = $1 AND user_id = $2"))
            .bind(conversation)
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            return Ok(Added::AlreadyMember(participant(&row)?));
        }
        if count >= max_members {
            return Ok(Added::Full);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 3, $3) RETURNING {PARTICIPANT_COLUMNS}"
        ))
        .bind(conversation)
        .bind(user)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE conversations SET member_count = member_count + 1 WHERE id = $1")
            .bind(conversation)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Added::Added(participant(&row)?))
    }

    async fn remove_member(&self, conversation: Uuid, user: Uuid) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let removed =
            sqlx::query("DELETE FROM participants WHERE conversation_id = $1 AND user_id = $2")
                .bind(conversation)
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if removed {
            sqlx::query("UPDATE conversations SET member_count = member_count - 1 WHERE id = $1")
                .bind(conversation)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(removed)
    }

    async fn set_role(&self, conversation: Uuid, user: Uuid, role: Role) -> StoreResult<()> {
        sqlx::query(
            "UPDATE participants SET role = $3 WHERE conversation_id = $1 AND user_id = $2",
        )
        .bind(conversation)
        .bind(user)
        .bind(role.code())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_conversation(&self, conversation: Uuid) -> StoreResult<()> {
        sqlx::query("DELETE FROM conversations WHERE id = $1")
            .bind(conversation)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_message(&self, new: &NewMessage) -> StoreResult<Inserted> {
        let m = &new.message;
        let mut tx = self.pool.begin().await?;
        // Concurrent duplicates wait on the unique index; the loser sees the winner's row.
        let fresh = sqlx::query(
            "INSERT INTO messages (conversation_id, id, sender_id, text, media_url, created_at, request_id, request_hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sender_id, request_id) DO NOTHING",
        )
        .bind(m.conversation_id)
        .bind(m.id)
        .bind(m.sender_id)
        .bind(&m.text)
        .bind(&m.media_url)
        .bind(m.created_at)
        .bind(&new.request_id)
        .bind(&new.request_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            tx.rollback().await?;
            let row =
                sqlx::query(&format!("SELECT {MESSAGE_COLUMNS}, request_hash FROM messages WHERE sender_id = $1 AND request_id = $2"))
                    .bind(m.sender_id)
                    .bind(&new.request_id)
                    .fetch_one(&self.pool)
                    .await?;
            let hash: Vec<u8> = row.try_get("request_hash")?;
            return Ok(if hash == new.request_hash {
                Inserted::Replayed(message(&row)?)
            } else {
                Inserted::Reused
            });
        }
        sqlx::query(
            "UPDATE conversations SET last_message_id = $2, last_activity_at = $3
             WHERE id = $1 AND (last_message_id IS NULL OR last_message_id < $2)",
        )
        .bind(m.conversation_id)
        .bind(m.id)
        .bind(m.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Inserted::Fresh(m.clone()))
    }

    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<MessageRow>> {
        let row = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND id = $2"
        ))
        .bind(conversation)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(message).transpose()?)
    }

    async fn list_messages(
        &self,
        conversation: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND ($2::uuid IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $3"
        ))
        .bind(conversation)
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(message).collect::<sqlx::Result<_>>()?)
    }

    async fn inbox(
        &self,
        user: Uuid,
        after: Option<InboxCursor>,
        limit: usize,
        groups_only: bool,
    ) -> StoreResult<Vec<InboxRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS}, p.conversation_id, p.user_id, p.role, p.joined_at, p.last_read_message_id, p.read_at
             FROM participants p JOIN conversations c ON c.id = p.conversation_id
             LEFT JOIN messages m ON m.conversation_id = c.id AND m.id = c.last_message_id
             WHERE p.user_id = $1
               AND (c.kind = 2 OR c.last_message_id IS NOT NULL OR c.created_by = $1)
               AND (NOT $5 OR c.kind = 2)
               AND ($2::timestamptz IS NULL OR (c.last_activity_at, c.id) < ($2, $3))
             ORDER BY c.last_activity_at DESC, c.id DESC LIMIT $4"
        ))
        .bind(user)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(limit as i64)
        .bind(groups_only)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxRow {
                    conversation: conversation(r)?,
                    me: participant(r)?,
                })
            })
            .collect()
    }

    async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        message: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ParticipantRow>> {
        sqlx::query(
            "UPDATE participants SET last_read_message_id = $3, read_at = $4
             WHERE conversation_id = $1 AND user_id = $2 AND (last_read_message_id IS NULL OR last_read_message_id < $3)",
        )
        .bind(conversation)
        .bind(user)
        .bind(message)
        .bind(at)
        .execute(&self.pool)
        .await?;
        self.participant(conversation, user).await
    }

    async fn unread_count(
        &self,
        conversation: Uuid,
        user: Uuid,
        after: Option<Uuid>,
        cap: i64,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM messages WHERE conversation_id = $1 AND sender_id <> $2
             AND ($3::uuid IS NULL OR id > $3) LIMIT $4) t",
        )
        .bind(conversation)
        .bind(user)
        .bind(after)
        .bind(cap)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn search(
        &self,
        conversations: &[Uuid],
        words: &[String],
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>> {
        let patterns: Vec<String> = words
            .iter()
            .map(|w| {
                format!(
                    "%{}%",
                    w.replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_")
                )
            })
            .collect();
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ANY($1) AND text ILIKE ALL($2)
             AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4"
        ))
        .bind(conversations)
        .bind(&patterns)
        .bind(before)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(message).collect::<sqlx::Result<_>>()?)
    }

    async fn conversation_ids(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        Ok(
            sqlx::query_scalar("SELECT conversation_id FROM participants WHERE user_id = $1")
                .bind(user)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn direct_contacts(&self, user: Uuid) -> StoreResult<Vec<Uuid>> {
        Ok(sqlx::query_scalar(
            "SELECT o.user_id FROM participants p JOIN conversations c ON c.id = p.conversation_id AND c.kind = 1
             JOIN participants o ON o.conversation_id = p.conversation_id AND o.user_id <> p.user_id WHERE p.user_id = $1",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?)
    }
}
