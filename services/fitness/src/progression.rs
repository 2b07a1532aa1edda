//! Progression math: the concrete loads of a workout entry's next session from the
//! user's history of that entry and its rule. Pure functions, table-tested.
