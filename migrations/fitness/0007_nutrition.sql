-- The shared ingredient table (seeded by 0009_food_seed.sql) and nutrition items.
CREATE TABLE foods (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,59}$'),
    name            text NOT NULL UNIQUE,
    -- Per 100 g of the edible part.
    kcal            int NOT NULL CHECK (kcal BETWEEN 0 AND 900),
    protein_g       double precision NOT NULL CHECK (protein_g >= 0),
    carbs_g         double precision NOT NULL CHECK (carbs_g >= 0),
    fat_g           double precision NOT NULL CHECK (fat_g >= 0),
    fiber_g         double precision NOT NULL CHECK (fiber_g >= 0),
    grams_per_piece double precision NOT NULL DEFAULT 0 CHECK (grams_per_piece >= 0),
    grams_per_ml    double precision NOT NULL DEFAULT 0 CHECK (grams_per_ml >= 0),
    -- Subset of 'vegetarian', 'vegan', 'gluten_free', 'dairy_free', 'nut_free'.
    diet_tags       text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX foods_name_idx ON foods (lower(name), id);

-- Recipes, meal plans and guides. `body` is the encoded proto body (Recipe, MealPlan
-- or Guide) with its computed fields filled in at creation.
CREATE TABLE nutrition_items (
    id            uuid PRIMARY KEY,
    creator_id    uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('recipe', 'meal_plan', 'guide')),
    title         text NOT NULL,
    summary       text NOT NULL DEFAULT '',
    difficulty    int NOT NULL DEFAULT 0,
    is_premium    boolean NOT NULL DEFAULT false,
    tags          text[] NOT NULL DEFAULT '{}',
    category_ids  text[] NOT NULL DEFAULT '{}',
    thumbnail_url text NOT NULL DEFAULT '',
    diet_tags     text[] NOT NULL DEFAULT '{}',
    body          bytea NOT NULL,
    search        tsvector NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX nutrition_items_created_idx ON nutrition_items (created_at DESC, id DESC);
CREATE INDEX nutrition_items_search_idx ON nutrition_items USING gin (search);
CREATE INDEX nutrition_items_tags_idx ON nutrition_items USING gin (tags);
