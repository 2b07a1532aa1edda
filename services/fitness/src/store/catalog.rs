//! SQL of catalog.

use std::collections::HashMap;

use sqlx::PgConnection;
use uuid::Uuid;

/// What other resources need to know about a catalog exercise.
#[derive(Debug, Clone)]
pub struct ExerciseFacts {
    pub name: String,
    /// `pb::MuscleGroup` values trained as prime movers (derived from muscles when the
    /// exercise names individual muscles).
    pub primary_groups: Vec<i32>,
    /// APPROVED: usable by everyone; otherwise only by `creator_id` (and admins).
    pub approved: bool,
    pub creator_id: Option<Uuid>,
}

/// Facts of the exercises in `ids` that exist (any status).
pub async fn exercise_facts(
    _conn: &mut PgConnection,
    _ids: &[Uuid],
) -> sqlx::Result<HashMap<Uuid, ExerciseFacts>> {
    Ok(HashMap::new())
}
