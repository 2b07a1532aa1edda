-- Progress logs: one row per logged session, one row per performed set (target vs
-- actual). Other resources read these tables: programs (progression history),
-- statistics, challenges (scores). Deleting a log deletes its sets.
CREATE TABLE progress_logs (
    id                 uuid PRIMARY KEY,
    user_id            uuid NOT NULL,
    workout_id         uuid,
    workout_creator_id uuid,
    enrollment_id      uuid,
    program_id         uuid,
    program_day_number int NOT NULL DEFAULT 0,
    title              text NOT NULL DEFAULT '',
    duration_seconds   int NOT NULL CHECK (duration_seconds BETWEEN 1 AND 86400),
    calories           int NOT NULL DEFAULT 0,
    volume_kg          double precision NOT NULL DEFAULT 0,
    perceived_exertion int NOT NULL DEFAULT 0,
    rating             int NOT NULL DEFAULT 0,
    notes              text NOT NULL DEFAULT '',
    completed_at       timestamptz NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX progress_logs_user_idx ON progress_logs (user_id, completed_at DESC, id DESC);
CREATE INDEX progress_logs_workout_idx ON progress_logs (user_id, workout_id, completed_at DESC);

-- The exercises of a log in order.
CREATE TABLE progress_exercises (
    log_id           uuid NOT NULL REFERENCES progress_logs (id) ON DELETE CASCADE,
    position         int NOT NULL,            -- 1-based in the log
    exercise_id      uuid NOT NULL,
    workout_position int NOT NULL DEFAULT 0,  -- the workout entry performed; 0 = none
    notes            text NOT NULL DEFAULT '',
    PRIMARY KEY (log_id, position)
);

-- Every performed set.
CREATE TABLE progress_sets (
    log_id           uuid NOT NULL,
    position         int NOT NULL,            -- the progress_exercises position
    set_number       int NOT NULL,            -- 1-based within the exercise
    user_id          uuid NOT NULL,           -- denormalised for per-user scans
    exercise_id      uuid NOT NULL,
    workout_position int NOT NULL DEFAULT 0,
    set_type         text NOT NULL CHECK (set_type IN ('warm_up', 'working', 'drop', 'amrap')),
    reps             int NOT NULL DEFAULT 0,
    weight_kg        double precision,        -- NULL = bodyweight
    duration_seconds int NOT NULL DEFAULT 0,
    distance_meters  double precision NOT NULL DEFAULT 0,
    rpe              double precision NOT NULL DEFAULT 0,
    prescribed_set   int NOT NULL DEFAULT 0,  -- resolved 1-based prescribed set; 0 = none
    completed        boolean NOT NULL DEFAULT true,
    target_met       boolean NOT NULL DEFAULT false,
    completed_at     timestamptz NOT NULL,    -- the log's completed_at, for history order
    PRIMARY KEY (log_id, position, set_number),
    FOREIGN KEY (log_id, position) REFERENCES progress_exercises (log_id, position) ON DELETE CASCADE
);
CREATE INDEX progress_sets_exercise_idx ON progress_sets (user_id, exercise_id, completed_at DESC);

-- Body measurements.
CREATE TABLE body_measurements (
    id               uuid PRIMARY KEY,
    user_id          uuid NOT NULL,
    measured_at      timestamptz NOT NULL,
    weight_kg        double precision,
    body_fat_percent double precision,
    waist_cm         double precision,
    chest_cm         double precision,
    hips_cm          double precision,
    arm_cm           double precision,
    thigh_cm         double precision,
    notes            text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX body_measurements_user_idx ON body_measurements (user_id, measured_at DESC, id DESC);
