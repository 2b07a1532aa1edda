-- Achievements awarded from the fitness service's events (services/user/src/achievements.rs).
INSERT INTO achievements (code, title, description) VALUES
    ('FIRST_WORKOUT', 'First sweat', 'Logged a first workout session'),
    ('STREAK_7', 'One week strong', 'Trained seven days in a row'),
    ('STREAK_30', 'Habit formed', 'Trained thirty days in a row'),
    ('STREAK_100', 'Unstoppable', 'Trained one hundred days in a row'),
    ('FIRST_PR', 'Personal best', 'Set a first personal record'),
    ('PROGRAM_COMPLETED', 'Finisher', 'Completed every workout day of a program'),
    ('CHALLENGE_COMPLETED', 'Challenge accepted', 'Reached the goal of a challenge');
