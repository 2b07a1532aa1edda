-- Messaging service database (tribe_messaging): the PostgreSQL MessageStore
-- (conversations, participants, messages, receipts), notifications, the local view of
-- users and blocks built from user events (the outbox, request ids and processed events
-- are the kit's: services/kit/migrations).

CREATE TABLE conversations (
    id               uuid PRIMARY KEY,
    kind             smallint NOT NULL CHECK (kind IN (1, 2)),      -- 1 direct, 2 group
    -- "<smaller uuid>:<larger uuid>" for direct conversations: at most one per pair.
    direct_key       text UNIQUE,
    name             text NOT NULL DEFAULT '',
    description      text NOT NULL DEFAULT '',
    image_url        text NOT NULL DEFAULT '',
    created_by       uuid NOT NULL,
    created_at       timestamptz NOT NULL,
    last_message_id  uuid,
    last_activity_at timestamptz NOT NULL,
    member_count     integer NOT NULL DEFAULT 0
);

CREATE TABLE participants (
    conversation_id      uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id              uuid NOT NULL,
    role                 smallint NOT NULL CHECK (role IN (1, 2, 3)),  -- owner, admin, member
    joined_at            timestamptz NOT NULL,
    last_read_message_id uuid,
    read_at              timestamptz,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX participants_user_idx ON participants (user_id);

CREATE TABLE messages (
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id              uuid NOT NULL,          -- UUIDv7: id order is send order
    sender_id       uuid NOT NULL,
    text            text NOT NULL,
    media_url       text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    request_id      text NOT NULL,
    request_hash    bytea NOT NULL,
    PRIMARY KEY (conversation_id, id)
);
-- SendMessage replay (AIP-155): one message per sender and request id, also under
-- concurrent duplicates.
CREATE UNIQUE INDEX messages_request_idx ON messages (sender_id, request_id);

CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    recipient_id    uuid NOT NULL,
    type            smallint NOT NULL,
    -- What unread notifications of this type group on ('' = never grouped).
    group_key       text NOT NULL,
    post_id         text NOT NULL DEFAULT '',
    comment_id      text NOT NULL DEFAULT '',
    conversation_id text NOT NULL DEFAULT '',
    text            text NOT NULL DEFAULT '',
    actor_ids       uuid[] NOT NULL DEFAULT '{}',   -- distinct, oldest first
    read            boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX notifications_open_group_idx ON notifications (recipient_id, type, group_key)
    WHERE NOT read AND group_key <> '';
CREATE INDEX notifications_page_idx ON notifications (recipient_id, updated_at DESC, id DESC);

-- What the user service told us (tribe.user.v1): handles for summaries, and blocks.
CREATE TABLE users (
    id         uuid PRIMARY KEY,
    handle     text NOT NULL,
    is_trainer boolean NOT NULL DEFAULT false
);
CREATE TABLE blocks (
    blocker_id uuid NOT NULL,
    blocked_id uuid NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
