//! Validation of exercises (their categories' existence is checked by the caller, which
//! holds a connection).

use tribe_kit::Violations;
use tribe_proto::fitness::v1 as pb;

use crate::convert::catalog as conv;
use crate::service::fields::{https_url, optional_text, required_enum as required, required_text};
use crate::store::catalog::ExerciseFields;

/// Distinct, specified values of a repeated enum field, at most `max`.
fn enums<E: Copy + PartialEq + TryFrom<i32> + Default>(
    v: &mut Violations,
    field: &str,
    values: &[i32],
    max: usize,
) -> Vec<E> {
    if values.len() > max {
        v.add(field, format!("at most {max} values"));
    }
    let mut out = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        match E::try_from(*raw) {
            Ok(e) if e == E::default() => v.add(format!("{field}[{i}]"), "must be specified"),
            Ok(e) if out.contains(&e) => v.add(format!("{field}[{i}]"), "is a duplicate"),
            Ok(e) => out.push(e),
            Err(_) => v.add(format!("{field}[{i}]"), "unknown value"),
        }
    }
    out
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

/// Validates a whole exercise (create, or the merged result of an update) and returns
/// its stored fields, the muscle groups completed from the muscles.
pub(crate) fn exercise(v: &mut Violations, p: &str, e: &pb::Exercise) -> ExerciseFields {
    required_text(v, &format!("{p}.name"), &e.name, 100);
    optional_text(v, &format!("{p}.description"), &e.description, 2000);
    if e.instructions.len() > 20 {
        v.add(format!("{p}.instructions"), "at most 20 steps");
    }
    for (i, step) in e.instructions.iter().enumerate() {
        required_text(v, &format!("{p}.instructions[{i}]"), step, 500);
    }

    let pm: Vec<pb::Muscle> = enums(v, &format!("{p}.primary_muscles"), &e.primary_muscles, 8);
    let sm: Vec<pb::Muscle> = enums(
        v,
        &format!("{p}.secondary_muscles"),
        &e.secondary_muscles,
        8,
    );
    for (i, m) in sm.iter().enumerate() {
        if pm.contains(m) {
            v.add(
                format!("{p}.secondary_muscles[{i}]"),
                "is also a primary muscle",
            );
        }
    }
    let given_pg: Vec<pb::MuscleGroup> = enums(
        v,
        &format!("{p}.primary_muscle_groups"),
        &e.primary_muscle_groups,
        5,
    );
    let given_sg: Vec<pb::MuscleGroup> = enums(
        v,
        &format!("{p}.secondary_muscle_groups"),
        &e.secondary_muscle_groups,
        5,
    );
    for (i, g) in given_sg.iter().enumerate() {
        if given_pg.contains(g) {
            v.add(
                format!("{p}.secondary_muscle_groups[{i}]"),
                "is also a primary muscle group",
            );
        }
    }
    let mut pg = given_pg;
    for m in &pm {
        push_unique(&mut pg, conv::group_of(*m));
    }
    let mut sg = Vec::new();
    for g in given_sg
        .into_iter()
        .chain(sm.iter().map(|m| conv::group_of(*m)))
    {
        if !pg.contains(&g) {
            push_unique(&mut sg, g);
        }
    }
    if pg.is_empty() {
        v.add(
            format!("{p}.primary_muscles"),
            "name at least one primary muscle or muscle group",
        );
    } else if pg.len() > 5 {
        v.add(
            format!("{p}.primary_muscle_groups"),
            "the primary muscles span more than 5 muscle groups",
        );
    }
    if sg.len() > 5 {
        v.add(
            format!("{p}.secondary_muscle_groups"),
            "the secondary muscles span more than 5 muscle groups",
        );
    }

    let equipment: Vec<pb::Equipment> = enums(v, &format!("{p}.equipment"), &e.equipment, 5);
    if e.equipment.is_empty() {
        v.add(
            format!("{p}.equipment"),
            "name at least one (EQUIPMENT_BODYWEIGHT for none)",
        );
    }
    let difficulty: Option<pb::Difficulty> = required(v, &format!("{p}.difficulty"), e.difficulty);
    let mechanics: Option<pb::Mechanics> = required(v, &format!("{p}.mechanics"), e.mechanics);

    if e.aliases.len() > 10 {
        v.add(format!("{p}.aliases"), "at most 10 aliases");
    }
    let mut aliases: Vec<String> = Vec::new();
    for (i, alias) in e.aliases.iter().enumerate() {
        let field = format!("{p}.aliases[{i}]");
        required_text(v, &field, alias, 100);
        let alias = alias.trim().to_string();
        if aliases.iter().any(|a| a.eq_ignore_ascii_case(&alias)) {
            v.add(field, "is a duplicate");
        } else {
            aliases.push(alias);
        }
    }
    https_url(v, &format!("{p}.thumbnail_url"), &e.thumbnail_url);
    https_url(v, &format!("{p}.video_url"), &e.video_url);

    ExerciseFields {
        name: e.name.trim().to_string(),
        description: e.description.clone(),
        instructions: e
            .instructions
            .iter()
            .map(|s| s.trim().to_string())
            .collect(),
        primary_groups: pg.into_iter().map(conv::group_text).collect(),
        secondary_groups: sg.into_iter().map(conv::group_text).collect(),
        primary_muscles: pm.into_iter().map(conv::muscle_text).collect(),
        secondary_muscles: sm.into_iter().map(conv::muscle_text).collect(),
        equipment: equipment.into_iter().map(conv::equipment_text).collect(),
        difficulty: difficulty.map(conv::difficulty_text).unwrap_or_default(),
        mechanics: mechanics.map(conv::mechanics_text).unwrap_or_default(),
        aliases,
        category_ids: e.category_ids.clone(),
        thumbnail_url: e.thumbnail_url.clone(),
        video_url: e.video_url.clone(),
    }
}

/// The explicitly given groups of a stored exercise: its groups minus those its muscles
/// imply, so an update that changes the muscles derives the groups afresh.
pub(crate) fn explicit_groups(groups: &[i32], muscles: &[i32]) -> Vec<i32> {
    let implied: Vec<i32> = muscles
        .iter()
        .filter_map(|m| pb::Muscle::try_from(*m).ok())
        .map(|m| conv::group_of(m) as i32)
        .collect();
    groups
        .iter()
        .copied()
        .filter(|g| !implied.contains(g))
        .collect()
}
