-- Posts, comments, likes, reports, timelines and the local replica of the social graph
-- of the content service (database tribe_content).

-- Enum columns hold the proto enum numbers (PostType, PostVisibility, ModerationState,
-- ReportReason, ReportStatus).
CREATE TABLE posts (
    id                uuid PRIMARY KEY,
    author_id         uuid NOT NULL,
    text              text NOT NULL,
    tags              text[] NOT NULL DEFAULT '{}',
    mentions          text[] NOT NULL DEFAULT '{}',
    type              smallint NOT NULL,
    visibility        smallint NOT NULL,
    -- JSON array of media items in display order (see store::posts::MediaItem).
    media             jsonb NOT NULL DEFAULT '[]',
    like_count        bigint NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    comment_count     bigint NOT NULL DEFAULT 0 CHECK (comment_count >= 0),
    moderation        smallint NOT NULL DEFAULT 1,
    moderation_reason text NOT NULL DEFAULT '',
    edited            boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    search            tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    -- What readers without premium access may match on (the locked preview).
    preview_search    tsvector GENERATED ALWAYS AS (to_tsvector('english', left(text, 280))) STORED
);
CREATE INDEX posts_author_idx ON posts (author_id, id DESC);
CREATE INDEX posts_tags_idx ON posts USING gin (tags);
CREATE INDEX posts_search_idx ON posts USING gin (search);
CREATE INDEX posts_preview_search_idx ON posts USING gin (preview_search);
CREATE INDEX posts_created_idx ON posts (created_at DESC) WHERE visibility = 1 AND moderation = 1;

CREATE TABLE post_likes (
    post_id    uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, user_id)
);
CREATE INDEX post_likes_recent_idx ON post_likes (created_at);

CREATE TABLE comments (
    id          uuid PRIMARY KEY,
    post_id     uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- The top-level comment a reply belongs to; NULL for top-level comments.
    parent_id   uuid REFERENCES comments (id) ON DELETE CASCADE,
    author_id   uuid NOT NULL,
    text        text NOT NULL,
    mentions    text[] NOT NULL DEFAULT '{}',
    like_count  bigint NOT NULL DEFAULT 0 CHECK (like_count >= 0),
    reply_count bigint NOT NULL DEFAULT 0 CHECK (reply_count >= 0),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX comments_thread_idx ON comments (post_id, parent_id, id);
CREATE INDEX comments_recent_idx ON comments (created_at);

CREATE TABLE comment_likes (
    comment_id uuid NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_id)
);

CREATE TABLE post_reports (
    id          uuid PRIMARY KEY,
    post_id     uuid NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    reporter_id uuid NOT NULL,
    reason      smallint NOT NULL,
    details     text NOT NULL DEFAULT '',
    status      smallint NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
-- One open report per user and post.
CREATE UNIQUE INDEX post_reports_open_key ON post_reports (post_id, reporter_id) WHERE status = 1;
CREATE INDEX post_reports_queue_idx ON post_reports (status, id);

CREATE TABLE moderation_log (
    id             uuid PRIMARY KEY,
    post_id        uuid NOT NULL,
    moderator_id   uuid NOT NULL,
    action         smallint NOT NULL,
    previous_state smallint NOT NULL,
    new_state      smallint NOT NULL,
    reason         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Local replica of the user service's graph, maintained from tribe.user.v1 events; read
-- rules (followers-only, blocks) and feed assembly read it instead of calling the user
-- service on every request.
CREATE TABLE users (
    id         uuid PRIMARY KEY,
    handle     text NOT NULL,
    is_trainer boolean NOT NULL DEFAULT false
);
CREATE INDEX users_handle_idx ON users (lower(handle));

CREATE TABLE follows (
    follower_id uuid NOT NULL,
    followee_id uuid NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id);

CREATE TABLE blocks (
    blocker_id uuid NOT NULL,
    blocked_id uuid NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id);

-- Authors whose last post had more followers than the fan-out threshold: their posts are
-- not pushed but merged into followers' feeds at read time.
CREATE TABLE pull_authors (
    author_id      uuid PRIMARY KEY,
    follower_count bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Postgres implementation of the TimelineStore (used when TRIBE_SCYLLA_NODES is unset).
CREATE TABLE home_timeline (
    owner_id  uuid NOT NULL,
    post_id   uuid NOT NULL,
    author_id uuid NOT NULL,
    PRIMARY KEY (owner_id, post_id)
);
CREATE INDEX home_timeline_post_idx ON home_timeline (post_id);
CREATE INDEX home_timeline_author_idx ON home_timeline (owner_id, author_id);

CREATE TABLE user_timeline (
    author_id uuid NOT NULL,
    post_id   uuid NOT NULL,
    PRIMARY KEY (author_id, post_id)
);

-- Trending snapshots: each recomputation writes a new snapshot; page tokens pin one.
CREATE TABLE trending_snapshots (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,     -- 'posts' or 'tags'
    window_kind smallint NOT NULL, -- TrendingWindow
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trending_snapshots_latest_idx ON trending_snapshots (kind, window_kind, id DESC);

CREATE TABLE trending_posts (
    snapshot_id bigint NOT NULL REFERENCES trending_snapshots (id) ON DELETE CASCADE,
    post_id     uuid NOT NULL,
    score       double precision NOT NULL,
    PRIMARY KEY (snapshot_id, post_id)
);
CREATE INDEX trending_posts_rank_idx ON trending_posts (snapshot_id, score DESC, post_id DESC);

CREATE TABLE trending_tags (
    snapshot_id        bigint NOT NULL REFERENCES trending_snapshots (id) ON DELETE CASCADE,
    tag                text NOT NULL,
    score              double precision NOT NULL,
    post_count         bigint NOT NULL,
    engaged_user_count bigint NOT NULL,
    PRIMARY KEY (snapshot_id, tag)
);
CREATE INDEX trending_tags_rank_idx ON trending_tags (snapshot_id, score DESC, tag DESC);
