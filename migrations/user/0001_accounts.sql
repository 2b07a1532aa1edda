-- Accounts, profiles, sessions and the social graph of the user service (database tribe_user).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    id              uuid PRIMARY KEY,
    email           text NOT NULL,
    handle          text NOT NULL,
    display_name    text NOT NULL,
    bio             text NOT NULL DEFAULT '',
    avatar_url      text NOT NULL DEFAULT '',
    cover_url       text NOT NULL DEFAULT '',
    location        text NOT NULL DEFAULT '',
    password_hash   text NOT NULL,
    is_trainer      boolean NOT NULL DEFAULT false,
    is_verified     boolean NOT NULL DEFAULT false,
    roles           text[] NOT NULL DEFAULT ARRAY['user'],
    tier            text NOT NULL DEFAULT 'free',
    -- occur_time of the payment event that set `tier`; older events never overwrite newer.
    tier_changed_at timestamptz,
    follower_count  bigint NOT NULL DEFAULT 0 CHECK (follower_count >= 0),
    following_count bigint NOT NULL DEFAULT 0 CHECK (following_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    search          tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple', handle), 'A') ||
                        setweight(to_tsvector('simple', display_name), 'A') ||
                        setweight(to_tsvector('simple', bio), 'C')) STORED
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_handle_key ON users (lower(handle));
CREATE INDEX users_search_idx ON users USING gin (search);
CREATE INDEX users_handle_trgm_idx ON users USING gin (lower(handle) gin_trgm_ops);
CREATE INDEX users_name_trgm_idx ON users USING gin (lower(display_name) gin_trgm_ops);

-- Rotating refresh tokens; one family per login. Only hashes are stored.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

CREATE TABLE follows (
    follower_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- ListFollowers / ListFollowing keysets (newest first) and ListFollowerIds (id order).
CREATE INDEX follows_followers_page_idx ON follows (followee_id, created_at DESC, follower_id DESC);
CREATE INDEX follows_following_page_idx ON follows (follower_id, created_at DESC, followee_id DESC);
CREATE INDEX follows_follower_ids_idx ON follows (followee_id, follower_id);

CREATE TABLE blocks (
    blocker_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_page_idx ON blocks (blocker_id, created_at DESC, blocked_id DESC);
CREATE INDEX blocks_blocked_idx ON blocks (blocked_id, blocker_id);

CREATE TABLE specialties (
    id           text PRIMARY KEY,
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT ''
);
INSERT INTO specialties (id, display_name, description) VALUES
    ('strength-training', 'Strength training', 'Barbell, dumbbell and machine strength work'),
    ('powerlifting', 'Powerlifting', 'Squat, bench press and deadlift'),
    ('bodybuilding', 'Bodybuilding', 'Hypertrophy and physique'),
    ('hiit', 'HIIT', 'High-intensity interval training'),
    ('yoga', 'Yoga', 'Mobility, balance and breath'),
    ('pilates', 'Pilates', 'Core strength and control'),
    ('running', 'Running', 'From couch to marathon'),
    ('cycling', 'Cycling', 'Road, indoor and mountain'),
    ('crossfit', 'CrossFit', 'Functional fitness'),
    ('calisthenics', 'Calisthenics', 'Bodyweight strength'),
    ('nutrition', 'Nutrition', 'Eating for performance and health'),
    ('mobility', 'Mobility', 'Flexibility and joint health'),
    ('rehabilitation', 'Rehabilitation', 'Return from injury'),
    ('prenatal', 'Pre- and postnatal', 'Training through pregnancy and after'),
    ('senior-fitness', 'Senior fitness', 'Strength and balance for older adults'),
    ('weight-loss', 'Weight loss', 'Sustainable fat loss');

CREATE TABLE user_specialties (
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    specialty_id text NOT NULL REFERENCES specialties (id),
    PRIMARY KEY (user_id, specialty_id)
);
CREATE INDEX user_specialties_specialty_idx ON user_specialties (specialty_id, user_id);

CREATE TABLE social_links (
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform text NOT NULL,
    url      text NOT NULL,
    PRIMARY KEY (user_id, platform)
);

CREATE TABLE preferences (
    user_id              uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    language             text NOT NULL DEFAULT 'en',
    theme                text NOT NULL DEFAULT 'system',
    unit_system          text NOT NULL DEFAULT 'metric',
    time_zone            text NOT NULL DEFAULT 'UTC',
    push_enabled         boolean NOT NULL DEFAULT true,
    email_enabled        boolean NOT NULL DEFAULT true,
    notify_new_follower  boolean NOT NULL DEFAULT true,
    notify_likes         boolean NOT NULL DEFAULT true,
    notify_comments      boolean NOT NULL DEFAULT true,
    notify_mentions      boolean NOT NULL DEFAULT true,
    notify_messages      boolean NOT NULL DEFAULT true,
    notify_workout_reminders boolean NOT NULL DEFAULT true,
    notify_marketing     boolean NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE achievements (
    code        text PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL,
    icon_url    text NOT NULL DEFAULT ''
);
INSERT INTO achievements (code, title, description) VALUES
    ('WELCOME', 'Welcome to the tribe', 'Created a TrainerTribe account'),
    ('FIRST_FOLLOW', 'Joined the community', 'Followed someone for the first time'),
    ('FOLLOWERS_10', 'Rising star', 'Reached 10 followers'),
    ('FOLLOWERS_100', 'Crowd favourite', 'Reached 100 followers'),
    ('PROFILE_COMPLETE', 'All about me', 'Added a bio and an avatar');

CREATE TABLE user_achievements (
    id        uuid PRIMARY KEY,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code      text NOT NULL REFERENCES achievements (code),
    earned_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, code)
);
CREATE INDEX user_achievements_page_idx ON user_achievements (user_id, earned_at DESC, id DESC);
