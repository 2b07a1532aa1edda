//! The `MessageStore` seam: conversations, participants, messages and read positions,
//! with a PostgreSQL implementation (the embedded default) and a ScyllaDB one (selected by
//! `TRIBE_SCYLLA_NODES`). Both keep the same semantics; `tests/it/conformance.rs` checks them.

pub mod notifications;
pub mod postgres;
pub mod scylla;
pub mod user_replica;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Direct (1:1) or group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Direct,
    Group,
}

impl Kind {
    pub fn code(self) -> i16 {
        match self {
            Kind::Direct => 1,
            Kind::Group => 2,
        }
    }

    pub fn from_code(code: i16) -> Self {
        if code == 2 { Kind::Group } else { Kind::Direct }
    }
}

/// A member's role; the numeric order is the member-list order (owner first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn code(self) -> i16 {
        match self {
            Role::Owner => 1,
            Role::Admin => 2,
            Role::Member => 3,
        }
    }

    pub fn from_code(code: i16) -> Self {
        match code {
            1 => Role::Owner,
            2 => Role::Admin,
            _ => Role::Member,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    pub conversation_id: Uuid,
    pub id: Uuid,
    pub sender_id: Uuid,
    pub text: String,
    pub media_url: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ConversationRow {
    pub id: Uuid,
    pub kind: Kind,
    pub name: String,
    pub description: String,
    pub image_url: String,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_message: Option<MessageRow>,
    pub last_activity_at: DateTime<Utc>,
    pub member_count: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantRow {
    pub conversation_id: Uuid,
    pub user_id: Uuid,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
    pub last_read_message_id: Option<Uuid>,
    pub read_at: Option<DateTime<Utc>>,
}

/// One inbox row: the conversation and the viewer's own membership.
#[derive(Debug, Clone)]
pub struct InboxRow {
    pub conversation: ConversationRow,
    pub me: ParticipantRow,
}

/// A group to create, with its founders (owner first).
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: Uuid,
    pub owner: Uuid,
    pub members: Vec<Uuid>,
    pub name: String,
    pub description: String,
    pub image_url: String,
    pub at: DateTime<Utc>,
}

/// A message to store once per (sender, request id).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message: MessageRow,
    pub request_id: String,
    pub request_hash: Vec<u8>,
}

/// What storing a message did.
#[derive(Debug, Clone)]
pub enum Inserted {
    /// Stored now.
    Fresh(MessageRow),
    /// The same request was stored before: its message.
    Replayed(MessageRow),
    /// The request id was used before with other parameters.
    Reused,
}

/// What adding a member did.
#[derive(Debug, Clone)]
pub enum Added {
    Added(ParticipantRow),
    AlreadyMember(ParticipantRow),
    Full,
    NoGroup,
}

/// Inbox position: (latest activity, conversation id), newest first.
pub type InboxCursor = (DateTime<Utc>, Uuid);

pub type StoreResult<T> = anyhow::Result<T>;

/// Storage of conversations and messages. Implementations are safe under concurrent
/// callers; every method is one logical operation.
#[async_trait::async_trait]
pub trait MessageStore: Send + Sync + 'static {
    /// Creates the direct conversation of `a` and `b` (opened by `a`) unless it exists;
    /// returns it and whether it was created now.
    async fn open_direct(
        &self,
        id: Uuid,
        a: Uuid,
        b: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<(ConversationRow, bool)>;
    async fn create_group(&self, group: &NewGroup) -> StoreResult<ConversationRow>;
    async fn conversation(&self, id: Uuid) -> StoreResult<Option<ConversationRow>>;
    async fn participant(
        &self,
        conversation: Uuid,
        user: Uuid,
    ) -> StoreResult<Option<ParticipantRow>>;
    /// Every participant: owner, admins, members, each by join time.
    async fn participants(&self, conversation: Uuid) -> StoreResult<Vec<ParticipantRow>>;
    async fn update_group(
        &self,
        id: Uuid,
        name: &str,
        description: &str,
        image_url: &str,
    ) -> StoreResult<()>;
    /// Adds a MEMBER unless the group already has `max_members`.
    async fn add_member(
        &self,
        conversation: Uuid,
        user: Uuid,
        at: DateTime<Utc>,
        max_members: i32,
    ) -> StoreResult<Added>;
    /// Returns whether the user was a member.
    async fn remove_member(&self, conversation: Uuid, user: Uuid) -> StoreResult<bool>;
    async fn set_role(&self, conversation: Uuid, user: Uuid, role: Role) -> StoreResult<()>;
    async fn delete_conversation(&self, conversation: Uuid) -> StoreResult<()>;
    /// Stores a message once per (sender, request id) and moves the conversation's
    /// latest activity.
    async fn insert_message(&self, message: &NewMessage) -> StoreResult<Inserted>;
    async fn message(&self, conversation: Uuid, id: Uuid) -> StoreResult<Option<MessageRow>>;
    /// Messages older than `before` (all when `None`), newest first.
    async fn list_messages(
        &self,
        conversation: Uuid,
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>>;
    /// The user's conversations by latest activity, newest first, after `after`. A direct
    /// conversation shows for its opener at once, for the other side from its first
    /// message on.
    async fn inbox(
        &self,
        user: Uuid,
        after: Option<InboxCursor>,
        limit: usize,
        groups_only: bool,
    ) -> StoreResult<Vec<InboxRow>>;
    /// Moves the read position forward (never backwards); returns the participant after.
    async fn mark_read(
        &self,
        conversation: Uuid,
        user: Uuid,
        message: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<ParticipantRow>>;
    /// Messages from others newer than `after`, counted up to `cap`.
    async fn unread_count(
        &self,
        conversation: Uuid,
        user: Uuid,
        after: Option<Uuid>,
        cap: i64,
    ) -> StoreResult<i64>;
    /// Messages containing every word (case-insensitive) in the given conversations,
    /// older than `before`, newest first.
    async fn search(
        &self,
        conversations: &[Uuid],
        words: &[String],
        before: Option<Uuid>,
        limit: usize,
    ) -> StoreResult<Vec<MessageRow>>;
    /// Ids of every conversation the user is in.
    async fn conversation_ids(&self, user: Uuid) -> StoreResult<Vec<Uuid>>;
    /// Users sharing a direct conversation with `user`.
    async fn direct_contacts(&self, user: Uuid) -> StoreResult<Vec<Uuid>>;
}

/// The key that makes a direct conversation unique per pair of users.
pub fn direct_key(a: Uuid, b: Uuid) -> String {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    format!("{lo}:{hi}")
}

/// The moment a UUIDv7 was minted (millisecond precision); the Unix epoch otherwise.
pub fn uuid_time(id: Uuid) -> DateTime<Utc> {
    id.get_timestamp()
        .and_then(|ts| {
            let (secs, nanos) = ts.to_unix();
            DateTime::from_timestamp(secs as i64, nanos)
        })
        .unwrap_or_default()
}
