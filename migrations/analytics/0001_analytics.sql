-- Analytics: raw domain events (range-partitioned by time), hourly rollups, exact
-- distinct-count sets, what the consumer has processed, and the TrackEvents intake.

-- Every event applied by the consumer, kept for replays and ad-hoc questions. Partitioned
-- by month on the event time; the service creates partitions ahead and drops expired
-- ones (see src/store/partitions.rs). The default partition catches anything outside the
-- prepared window (very old replays) so nothing is rejected.
CREATE TABLE raw_events (
    event_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    topic text NOT NULL,
    kind text NOT NULL,
    actor_id text NOT NULL DEFAULT '',
    aggregate_id text NOT NULL DEFAULT '',
    payload bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (occurred_at, event_id)
) PARTITION BY RANGE (occurred_at);
CREATE TABLE raw_events_default PARTITION OF raw_events DEFAULT;

-- Additive counters per (subject, metric, UTC hour). Subjects: 'user:<id>',
-- 'post:<id>', 'creator:<id>', 'platform'. Days and weeks are summed from hours by query.
CREATE TABLE rollup_hourly (
    subject text NOT NULL,
    metric text NOT NULL,
    hour timestamptz NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (subject, metric, hour)
);

-- Keyed sets for exact distinct counts: one row per (set, hour, member). A member active
-- in several hours of a day appears in several rows, and count(DISTINCT member) over any
-- range counts it once, so nothing double counts across buckets.
CREATE TABLE distinct_hourly (
    set_key text NOT NULL,
    hour timestamptz NOT NULL,
    member text NOT NULL,
    PRIMARY KEY (set_key, hour, member)
);

-- Views counted so far per (target, viewer), for "repeated views within 30 minutes count
-- once".
CREATE TABLE counted_views (
    target text NOT NULL,
    viewer_id text NOT NULL,
    viewed_at timestamptz NOT NULL,
    PRIMARY KEY (target, viewer_id, viewed_at)
);

-- Post authorship learned from content events (PostCreated, likes and comments carry
-- the author too).
CREATE TABLE posts (
    post_id text PRIMARY KEY,
    author_id text NOT NULL,
    created_at timestamptz,
    deleted_at timestamptz
);

-- Accounts seen registering, with whether they registered as trainers.
CREATE TABLE users (
    user_id text PRIMARY KEY,
    is_trainer boolean NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL
);

-- The follow graph as far as events told us, so a block counts lost followers only for
-- follows that existed.
CREATE TABLE follows (
    follower_id text NOT NULL,
    followee_id text NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);

-- Consumer progress per topic, for lag visibility and the views' watermark.
CREATE TABLE consumer_progress (
    topic text PRIMARY KEY,
    last_event_time timestamptz NOT NULL,
    last_process_time timestamptz NOT NULL
);

-- TrackEvents intake: (user, client_event_id) accepted so far, for retry-safe batches.
-- Rows older than the 7-day acceptance window (plus a day) are purged.
CREATE TABLE tracked_events (
    user_id text NOT NULL,
    client_event_id text NOT NULL,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_event_id)
);
CREATE INDEX tracked_events_accepted ON tracked_events (accepted_at);
