-- Challenges and their participants. Scores are not stored: they are the metric
-- summed over the participant's progress logs in [start_at, end_at), computed by
-- challenge_score at read time, so edited or deleted logs are always reflected.
CREATE TABLE challenges (
    id            uuid PRIMARY KEY,
    creator_id    uuid NOT NULL,
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    difficulty    int NOT NULL DEFAULT 0,
    is_premium    boolean NOT NULL DEFAULT false,
    category_ids  text[] NOT NULL DEFAULT '{}',
    thumbnail_url text NOT NULL DEFAULT '',
    metric        text NOT NULL CHECK (metric IN
                      ('workouts_completed', 'minutes', 'volume', 'calories', 'workout_sessions')),
    goal          double precision NOT NULL CHECK (goal > 0),
    workout_id    uuid,
    start_at      timestamptz NOT NULL,
    end_at        timestamptz NOT NULL CHECK (end_at > start_at),
    -- Set by the finaliser once ChallengeFinished went out for every participant.
    finalised_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((metric = 'workout_sessions') = (workout_id IS NOT NULL))
);
CREATE INDEX challenges_start_idx ON challenges (start_at, id);
CREATE INDEX challenges_end_idx ON challenges (end_at, id);
CREATE INDEX challenges_unfinalised_idx ON challenges (end_at) WHERE finalised_at IS NULL;

-- A row per user who ever joined; leaving sets left_at (the first join time and a
-- reached goal are kept, so rejoining publishes nothing and awards nothing twice).
CREATE TABLE challenge_participants (
    challenge_id uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    user_id      uuid NOT NULL,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    left_at      timestamptz,
    completed_at timestamptz,
    PRIMARY KEY (challenge_id, user_id)
);
CREATE INDEX challenge_participants_user_idx ON challenge_participants (user_id, challenge_id);

-- The score of `p_user` in a challenge with the given metric, workout and window.
-- Logs recorded after the end do not count (even backdated ones): results are final.
CREATE FUNCTION challenge_score(p_metric text, p_workout uuid, p_user uuid,
                                p_start timestamptz, p_end timestamptz)
RETURNS double precision LANGUAGE sql STABLE AS $$
    SELECT COALESCE(CASE p_metric
               WHEN 'workouts_completed' THEN count(*)::float8
               WHEN 'workout_sessions' THEN count(*)::float8
               WHEN 'minutes' THEN sum(l.duration_seconds)::float8 / 60
               WHEN 'volume' THEN sum(l.volume_kg)
               WHEN 'calories' THEN sum(l.calories)::float8
           END, 0)
      FROM progress_logs l
     WHERE l.user_id = p_user
       AND l.completed_at >= p_start AND l.completed_at < p_end
       AND l.created_at < p_end
       AND (p_metric <> 'workout_sessions' OR l.workout_id = p_workout)
$$;
