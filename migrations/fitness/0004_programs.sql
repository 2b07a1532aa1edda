-- Programs (a schedule of workout and rest days), enrollments with the days they
-- completed, and trainer-client relationships (coachings).
CREATE TABLE programs (
    id                uuid PRIMARY KEY,
    creator_id        uuid NOT NULL,
    title             text NOT NULL,
    description       text NOT NULL DEFAULT '',
    difficulty        int NOT NULL,
    is_premium        boolean NOT NULL DEFAULT false,
    category_ids      text[] NOT NULL DEFAULT '{}',
    thumbnail_url     text NOT NULL DEFAULT '',
    duration_days     int NOT NULL CHECK (duration_days BETWEEN 1 AND 364),
    workout_day_count int NOT NULL CHECK (workout_day_count >= 1),
    enrollment_count  bigint NOT NULL DEFAULT 0,
    search            tsvector GENERATED ALWAYS AS (
                          setweight(to_tsvector('english', title), 'A') ||
                          setweight(to_tsvector('english', description), 'C')) STORED,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX programs_newest_idx ON programs (created_at DESC, id DESC);
CREATE INDEX programs_creator_idx ON programs (creator_id, created_at DESC, id DESC);
CREATE INDEX programs_search_idx ON programs USING gin (search);
CREATE INDEX programs_categories_idx ON programs USING gin (category_ids);

-- The listed days of a program; a day with no workout is a planned rest day, days not
-- listed are rest days too. A scheduled workout cannot be deleted (DeleteWorkout checks).
CREATE TABLE program_days (
    program_id uuid NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    day_number int NOT NULL CHECK (day_number BETWEEN 1 AND 364),
    workout_id uuid NULL REFERENCES workouts (id) ON DELETE RESTRICT,
    notes      text NOT NULL DEFAULT '',
    PRIMARY KEY (program_id, day_number)
);
CREATE INDEX program_days_workout_idx ON program_days (workout_id) WHERE workout_id IS NOT NULL;

-- A user's enrollment. `paused_seconds` sums the finished pauses so the calendar day
-- can leave them out; `paused_at` is set while PAUSED.
CREATE TABLE enrollments (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL,
    program_id     uuid NOT NULL REFERENCES programs (id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('active', 'completed', 'paused', 'left')),
    assigned_by_id uuid,
    started_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    paused_at      timestamptz,
    left_at        timestamptz,
    paused_seconds bigint NOT NULL DEFAULT 0
);
-- One open (active or paused) enrollment per user and program.
CREATE UNIQUE INDEX enrollments_open_idx ON enrollments (user_id, program_id)
    WHERE status IN ('active', 'paused');
CREATE INDEX enrollments_user_idx ON enrollments (user_id, started_at DESC, id DESC);

-- Which log completed which day; a day logged twice has two rows, so deleting one of
-- the logs keeps the day completed.
CREATE TABLE enrollment_days (
    enrollment_id uuid NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
    day_number    int NOT NULL,
    log_id        uuid NOT NULL,
    completed_at  timestamptz NOT NULL,
    PRIMARY KEY (enrollment_id, day_number, log_id)
);
CREATE INDEX enrollment_days_log_idx ON enrollment_days (log_id);

-- Trainer-client relationships; ACTIVE ones let the trainer read progress and assign
-- programs.
CREATE TABLE coachings (
    id          uuid PRIMARY KEY,
    trainer_id  uuid NOT NULL,
    client_id   uuid NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'active', 'ended')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    accepted_at timestamptz,
    ended_at    timestamptz,
    ended_by    uuid,
    CHECK (trainer_id <> client_id)
);
CREATE UNIQUE INDEX coachings_open_idx ON coachings (trainer_id, client_id)
    WHERE status IN ('pending', 'active');
CREATE INDEX coachings_trainer_idx ON coachings (trainer_id, created_at DESC, id DESC);
CREATE INDEX coachings_client_idx ON coachings (client_id, created_at DESC, id DESC);
