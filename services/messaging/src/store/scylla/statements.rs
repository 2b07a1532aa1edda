//! The prepared statements of the ScyllaDB store, with their consistency levels.

use ::scylla::client::session::Session;
use ::scylla::statement::Consistency;
use ::scylla::statement::prepared::PreparedStatement;

pub(super) struct Statements {
    pub(super) conversation: PreparedStatement,
    pub(super) insert_conversation: PreparedStatement,
    pub(super) set_last: PreparedStatement,
    pub(super) update_group: PreparedStatement,
    pub(super) cas_count: PreparedStatement,
    pub(super) delete_conversation: PreparedStatement,
    pub(super) claim_pair: PreparedStatement,
    pub(super) read_pair: PreparedStatement,
    pub(super) participant: PreparedStatement,
    pub(super) participants: PreparedStatement,
    pub(super) insert_participant: PreparedStatement,
    pub(super) delete_participant: PreparedStatement,
    pub(super) delete_participants: PreparedStatement,
    pub(super) set_role: PreparedStatement,
    pub(super) cas_read: PreparedStatement,
    pub(super) insert_user_conversation: PreparedStatement,
    pub(super) delete_user_conversation: PreparedStatement,
    pub(super) user_conversations: PreparedStatement,
    pub(super) insert_message: PreparedStatement,
    pub(super) message: PreparedStatement,
    pub(super) bucket_page: PreparedStatement,
    pub(super) bucket_page_before: PreparedStatement,
    pub(super) senders_after: PreparedStatement,
    pub(super) claim_request: PreparedStatement,
    pub(super) read_request: PreparedStatement,
}

impl Statements {
    pub(super) async fn prepare(session: &Session) -> anyhow::Result<Self> {
        // LOCAL_QUORUM; conditional statements (IF ...) run their Paxos round at
        // LOCAL_SERIAL, which tribe_kit::scylla::prepare sets on every statement. With
        // replication 1 (a single local node) LOCAL_QUORUM is that one node.
        async fn p(
            session: &Session,
            cql: &str,
            idempotent: bool,
        ) -> anyhow::Result<PreparedStatement> {
            tribe_kit::scylla::prepare(session, cql, Consistency::LocalQuorum, idempotent).await
        }
        async fn serial_read(session: &Session, cql: &str) -> anyhow::Result<PreparedStatement> {
            let mut st = p(session, cql, true).await?;
            // Reads that must see a just-decided lightweight transaction.
            st.set_consistency(Consistency::LocalSerial);
            Ok(st)
        }
        const CONV: &str = "SELECT conversation_id, kind, name, description, image_url, created_by, created_at, first_bucket, member_count, \
                            last_message_id, last_activity FROM conversations WHERE conversation_id = ?";
        const MSG: &str = "conversation_id, message_id, sender_id, text, media_url, created_at";
        const PART: &str =
            "conversation_id, user_id, role, joined_at, last_read_message_id, read_at";
        Ok(Self {
            conversation: p(session, CONV, true).await?,
            // No last_activity here: only set_last writes it, at the message's time, so a
            // conversation's creation (written at the server's clock) cannot shadow the
            // activity of messages whose time is earlier than that clock; until the first
            // message the store reads created_at instead.
            insert_conversation: p(
                session,
                "INSERT INTO conversations (conversation_id, kind, direct_key, name, description, image_url, created_by, created_at, \
                 first_bucket, member_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                true,
            )
            .await?,
            set_last: p(
                session,
                "UPDATE conversations USING TIMESTAMP ? SET last_message_id = ?, last_activity = ? WHERE conversation_id = ?",
                true,
            )
            .await?,
            update_group: p(session, "UPDATE conversations SET name = ?, description = ?, image_url = ? WHERE conversation_id = ?", true)
                .await?,
            cas_count: p(session, "UPDATE conversations SET member_count = ? WHERE conversation_id = ? IF member_count = ?", false).await?,
            delete_conversation: p(session, "DELETE FROM conversations WHERE conversation_id = ?", true).await?,
            claim_pair: p(session, "INSERT INTO direct_pairs (direct_key, conversation_id) VALUES (?, ?) IF NOT EXISTS", false).await?,
            read_pair: serial_read(session, "SELECT conversation_id FROM direct_pairs WHERE direct_key = ?").await?,
            participant: p(session, &format!("SELECT {PART} FROM participants WHERE conversation_id = ? AND user_id = ?"), true).await?,
            participants: p(session, &format!("SELECT {PART} FROM participants WHERE conversation_id = ?"), true).await?,
            insert_participant: p(
                session,
                "INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
                true,
            )
            .await?,
            delete_participant: p(session, "DELETE FROM participants WHERE conversation_id = ? AND user_id = ?", true).await?,
            delete_participants: p(session, "DELETE FROM participants WHERE conversation_id = ?", true).await?,
            set_role: p(session, "UPDATE participants SET role = ? WHERE conversation_id = ? AND user_id = ?", true).await?,
            cas_read: p(
                session,
                "UPDATE participants SET last_read_message_id = ?, read_at = ? WHERE conversation_id = ? AND user_id = ? \
                 IF last_read_message_id = ?",
                false,
            )
            .await?,
            insert_user_conversation: p(session, "INSERT INTO user_conversations (user_id, conversation_id, kind) VALUES (?, ?, ?)", true)
                .await?,
            delete_user_conversation: p(session, "DELETE FROM user_conversations WHERE user_id = ? AND conversation_id = ?", true).await?,
            user_conversations: p(session, "SELECT conversation_id, kind FROM user_conversations WHERE user_id = ?", true).await?,
            insert_message: p(
                session,
                "INSERT INTO messages (conversation_id, bucket, created_ms, message_id, sender_id, text, media_url, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                true,
            )
            .await?,
            message: p(
                session,
                &format!("SELECT {MSG} FROM messages WHERE conversation_id = ? AND bucket = ? AND created_ms = ? AND message_id = ?"),
                true,
            )
            .await?,
            bucket_page: p(session, &format!("SELECT {MSG} FROM messages WHERE conversation_id = ? AND bucket = ? LIMIT ?"), true).await?,
            bucket_page_before: p(
                session,
                &format!(
                    "SELECT {MSG} FROM messages WHERE conversation_id = ? AND bucket = ? AND (created_ms, message_id) < (?, ?) LIMIT ?"
                ),
                true,
            )
            .await?,
            senders_after: p(
                session,
                "SELECT sender_id FROM messages WHERE conversation_id = ? AND bucket = ? AND (created_ms, message_id) > (?, ?) LIMIT ?",
                true,
            )
            .await?,
            claim_request: p(
                session,
                "INSERT INTO message_requests (sender_id, request_id, conversation_id, message_id, request_hash) VALUES (?, ?, ?, ?, ?) \
                 IF NOT EXISTS",
                false,
            )
            .await?,
            read_request: serial_read(
                session,
                "SELECT conversation_id, message_id, request_hash FROM message_requests WHERE sender_id = ? AND request_id = ?",
            )
            .await?,
        })
    }
}
