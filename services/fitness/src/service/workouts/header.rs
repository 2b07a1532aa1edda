//! Validation of a workout's own fields (everything but its entries).

use tribe_kit::Violations;
use tribe_proto::fitness::v1 as pb;

use crate::convert::catalog::difficulty_text;
use crate::convert::workouts::visibility_text;
use crate::service::fields::{https_url, optional_text, required_enum, required_text};
use crate::store::workouts::WorkoutFields;

/// The visibility a workout input asks for: `visibility`, or PREMIUM / PUBLIC from
/// `is_premium` when unset.
pub(super) fn visibility(
    v: &mut Violations,
    p: &str,
    w: &pb::Workout,
) -> Option<pb::WorkoutVisibility> {
    match pb::WorkoutVisibility::try_from(w.visibility) {
        Ok(pb::WorkoutVisibility::Unspecified) => Some(if w.is_premium {
            pb::WorkoutVisibility::Premium
        } else {
            pb::WorkoutVisibility::Public
        }),
        Ok(vis) => {
            if w.is_premium && vis != pb::WorkoutVisibility::Premium {
                v.add(
                    format!("{p}.is_premium"),
                    "is true only for a PREMIUM workout",
                );
            }
            Some(vis)
        }
        Err(_) => {
            v.add(format!("{p}.visibility"), "unknown value");
            None
        }
    }
}

/// Validates the header fields of `w` and returns them as stored (the categories'
/// existence is the caller's to check).
pub(super) fn fields(
    v: &mut Violations,
    p: &str,
    w: &pb::Workout,
    visibility: Option<pb::WorkoutVisibility>,
) -> WorkoutFields {
    required_text(v, &format!("{p}.title"), &w.title, 100);
    optional_text(v, &format!("{p}.description"), &w.description, 2000);
    let difficulty = required_enum(v, &format!("{p}.difficulty"), w.difficulty);
    https_url(v, &format!("{p}.thumbnail_url"), &w.thumbnail_url);
    if !(60..=14_400).contains(&w.duration_seconds) {
        v.add(
            format!("{p}.duration_seconds"),
            "must be between 60 and 14400",
        );
    }
    if !(0..=5000).contains(&w.estimated_calories) {
        v.add(
            format!("{p}.estimated_calories"),
            "must be between 0 and 5000",
        );
    }
    WorkoutFields {
        title: w.title.trim().to_string(),
        description: w.description.clone(),
        difficulty: difficulty.map(difficulty_text).unwrap_or_default(),
        visibility: visibility.map(visibility_text).unwrap_or_default(),
        category_ids: w.category_ids.clone(),
        thumbnail_url: w.thumbnail_url.clone(),
        duration_seconds: w.duration_seconds,
        estimated_calories: w.estimated_calories,
    }
}
