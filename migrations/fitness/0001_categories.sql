-- The shared category catalog ("strength", "vegan"): tags of exercises, workouts,
-- programs, nutrition items and challenges. Seeded by the platform.
CREATE TABLE categories (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    display_name text NOT NULL,
    description  text NOT NULL,
    icon_url     text NOT NULL DEFAULT ''
);

INSERT INTO categories (id, display_name, description) VALUES
    ('strength', 'Strength', 'Heavy compound lifts and accessories to get stronger.'),
    ('hypertrophy', 'Hypertrophy', 'Moderate loads and higher volume to build muscle.'),
    ('powerlifting', 'Powerlifting', 'Squat, bench press and deadlift, trained for a one-rep max.'),
    ('olympic-lifting', 'Olympic lifting', 'Snatch, clean and jerk and their pulls.'),
    ('bodyweight', 'Bodyweight', 'Training with no equipment but your own body.'),
    ('calisthenics', 'Calisthenics', 'Skills and strength on bars and rings.'),
    ('hiit', 'HIIT', 'Short, hard intervals with brief rests.'),
    ('cardio', 'Cardio', 'Steady aerobic work: running, cycling, rowing.'),
    ('running', 'Running', 'Road, track and trail running.'),
    ('cycling', 'Cycling', 'Indoor and outdoor riding.'),
    ('mobility', 'Mobility', 'Range of motion and joint control.'),
    ('stretching', 'Stretching', 'Flexibility work held or moved through.'),
    ('yoga', 'Yoga', 'Postures, breathing and flow.'),
    ('pilates', 'Pilates', 'Core-centred controlled movements.'),
    ('core', 'Core', 'Abdominals, obliques and trunk stability.'),
    ('conditioning', 'Conditioning', 'Work capacity for sport and life.'),
    ('rehab', 'Rehab and prehab', 'Gentle work to recover from or prevent injury.'),
    ('beginner-friendly', 'Beginner friendly', 'Safe starting points for new trainees.'),
    ('home', 'Home training', 'Little or no equipment, small spaces.'),
    ('weight-loss', 'Weight loss', 'Training and eating for a caloric deficit.'),
    ('muscle-gain', 'Muscle gain', 'Training and eating for a caloric surplus.'),
    ('meal-prep', 'Meal prep', 'Cooking ahead for the week.'),
    ('vegan', 'Vegan', 'Plant-based eating with no animal products.'),
    ('vegetarian', 'Vegetarian', 'Eating without meat or fish.'),
    ('high-protein', 'High protein', 'Meals built around protein.'),
    ('low-carb', 'Low carb', 'Meals with fewer carbohydrates.'),
    ('recovery', 'Recovery', 'Sleep, deloads and easy days.');
