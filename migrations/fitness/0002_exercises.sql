-- The exercise catalog. Enumerations are stored as the lowercase proto value names
-- without their prefix ('pectoralis_major', 'barbell', 'compound', 'approved'), so the
-- seed stays readable. Primary and secondary groups are kept derived from the muscles
-- by the service (and by the seed), so group filters need no mapping at query time.
CREATE TABLE exercises (
    id                uuid PRIMARY KEY,
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description       text NOT NULL DEFAULT '',
    instructions      text[] NOT NULL DEFAULT '{}',
    primary_groups    text[] NOT NULL,
    secondary_groups  text[] NOT NULL DEFAULT '{}',
    primary_muscles   text[] NOT NULL DEFAULT '{}',
    secondary_muscles text[] NOT NULL DEFAULT '{}',
    equipment         text[] NOT NULL,
    difficulty        text NOT NULL CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    mechanics         text NOT NULL CHECK (mechanics IN ('compound', 'isolation')),
    aliases           text[] NOT NULL DEFAULT '{}',
    category_ids      text[] NOT NULL DEFAULT '{}',
    thumbnail_url     text NOT NULL DEFAULT '',
    video_url         text NOT NULL DEFAULT '',
    -- NULL for the platform's seeded catalog.
    creator_id        uuid,
    status            text NOT NULL CHECK (status IN ('pending_review', 'approved', 'rejected')),
    review_note       text NOT NULL DEFAULT '',
    -- Maintained by the trigger below: aliases are an array, which a generated column
    -- cannot flatten (array_to_string is not immutable).
    search            tsvector NOT NULL DEFAULT ''::tsvector,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX exercises_name_key ON exercises (lower(name));
CREATE INDEX exercises_search_idx ON exercises USING gin (search);
CREATE INDEX exercises_creator_idx ON exercises (creator_id) WHERE creator_id IS NOT NULL;

CREATE FUNCTION exercises_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search :=
        setweight(to_tsvector('english', NEW.name), 'A') ||
        setweight(to_tsvector('english', array_to_string(NEW.aliases, ' ')), 'A') ||
        setweight(to_tsvector('english', NEW.description), 'C');
    RETURN NEW;
END
$$;

CREATE TRIGGER exercises_search_refresh
    BEFORE INSERT OR UPDATE OF name, aliases, description ON exercises
    FOR EACH ROW EXECUTE FUNCTION exercises_search_refresh();
