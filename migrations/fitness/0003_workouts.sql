-- Workouts and their ordered entries. An entry's prescription (block, set plan,
-- progression, tempo, notes) is the prost encoding of its normalised
-- `trainertribe.fitness.v1.WorkoutExercise` (without the hydrated exercise); the
-- exercise id is a column too, so the catalog can refuse deleting a used exercise and
-- lists can filter by the exercises' equipment and muscle groups.
CREATE TABLE workouts (
    id                 uuid PRIMARY KEY,
    creator_id         uuid NOT NULL,
    title              text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description        text NOT NULL DEFAULT '',
    difficulty         text NOT NULL CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    visibility         text NOT NULL CHECK (visibility IN ('public', 'premium', 'private')),
    category_ids       text[] NOT NULL DEFAULT '{}',
    thumbnail_url      text NOT NULL DEFAULT '',
    duration_seconds   int NOT NULL CHECK (duration_seconds BETWEEN 60 AND 14400),
    estimated_calories int NOT NULL DEFAULT 0 CHECK (estimated_calories BETWEEN 0 AND 5000),
    exercise_count     int NOT NULL CHECK (exercise_count BETWEEN 1 AND 50),
    search             tsvector GENERATED ALWAYS AS (
                           setweight(to_tsvector('english', title), 'A') ||
                           setweight(to_tsvector('english', description), 'C')) STORED,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workouts_creator_idx ON workouts (creator_id, id DESC);
CREATE INDEX workouts_search_idx ON workouts USING gin (search);
CREATE INDEX workouts_categories_idx ON workouts USING gin (category_ids);

CREATE TABLE workout_exercises (
    workout_id  uuid NOT NULL REFERENCES workouts (id) ON DELETE CASCADE,
    position    int NOT NULL CHECK (position BETWEEN 1 AND 50),
    exercise_id uuid NOT NULL REFERENCES exercises (id) ON DELETE RESTRICT,
    entry       bytea NOT NULL,
    PRIMARY KEY (workout_id, position)
);
CREATE INDEX workout_exercises_exercise_idx ON workout_exercises (exercise_id);
