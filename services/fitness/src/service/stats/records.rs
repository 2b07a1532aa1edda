//! Personal records: the best Epley e1RM per exercise and the rep maxes behind it.

use std::collections::HashMap;

use sqlx::PgConnection;
use tribe_kit::ApiError;
use tribe_proto::fitness::v1 as pb;
use uuid::Uuid;

use crate::convert::timestamp;
use crate::service::progress::names_of;
use crate::store::progress as store;

pub const MAX_RECORDS: usize = 50;

/// `user`'s records, best first, at most 50 (for `only` the exercises given).
pub async fn records(
    conn: &mut PgConnection,
    user: Uuid,
    only: Option<&[Uuid]>,
) -> Result<Vec<pb::PersonalRecord>, ApiError> {
    let mut bests = store::best_per_exercise(conn, user, only).await?;
    bests.sort_by(|a, b| {
        b.e1rm
            .total_cmp(&a.e1rm)
            .then_with(|| a.exercise_id.cmp(&b.exercise_id))
    });
    bests.truncate(MAX_RECORDS);
    let ids: Vec<Uuid> = bests.iter().map(|b| b.exercise_id).collect();
    let mut rep_maxes: HashMap<Uuid, Vec<pb::RepMax>> = HashMap::new();
    for max in store::rep_maxes(conn, user, &ids).await? {
        rep_maxes
            .entry(max.exercise_id)
            .or_default()
            .push(pb::RepMax {
                reps: max.reps,
                weight_kg: max.weight_kg,
                achieve_time: Some(timestamp(max.completed_at)),
            });
    }
    let names = names_of(conn, ids.iter().copied()).await?;
    Ok(bests
        .into_iter()
        .map(|best| {
            let mut maxes = rep_maxes.remove(&best.exercise_id).unwrap_or_default();
            maxes.sort_by_key(|m| m.reps);
            pb::PersonalRecord {
                exercise_id: best.exercise_id.to_string(),
                exercise_name: names.get(&best.exercise_id).cloned().unwrap_or_default(),
                estimated_one_rep_max_kg: best.e1rm,
                formula: "epley".into(),
                rep_maxes: maxes,
                achieve_time: Some(timestamp(best.completed_at)),
                progress_log_id: best.log_id.to_string(),
            }
        })
        .collect())
}
