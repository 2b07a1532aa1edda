//! Validation and normalisation of workout entries: blocks, set plans (the flat legacy
//! fields become one), progression rules and tempo.

use std::collections::HashMap;

use tribe_kit::Violations;
use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::progression_rule::Rule;
use tribe_proto::fitness::v1::set_prescription::Load;
use uuid::Uuid;

use crate::store::catalog::ExerciseFacts;

pub(super) const MAX_ENTRIES: usize = 50;
const MAX_SETS: usize = 30;

/// The parsed exercise id of every entry (None where malformed).
pub(super) fn exercise_ids(
    v: &mut Violations,
    p: &str,
    entries: &[pb::WorkoutExercise],
) -> Vec<Option<Uuid>> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let field = format!("{p}[{i}].exercise_id");
            if e.exercise_id.is_empty() {
                v.add(field, "is required");
                None
            } else {
                let id = Uuid::try_parse(&e.exercise_id).ok();
                if id.is_none() {
                    v.add(field, "is not a valid id");
                }
                id
            }
        })
        .collect()
}

/// Who is building the workout and for whom: which exercises it may use.
pub(super) struct Builder<'a> {
    pub facts: &'a HashMap<Uuid, ExerciseFacts>,
    pub caller: Uuid,
    pub admin: bool,
    /// PUBLIC or PREMIUM: others will see it, so only approved exercises (a pending
    /// submission must not reach them through a workout).
    pub public: bool,
}

/// Records, under `{p}[i].exercise_id`, every exercise of `ids` the builder may not use.
pub(super) fn check_exercises(
    v: &mut Violations,
    p: &str,
    ids: &[Option<Uuid>],
    builder: &Builder<'_>,
) {
    for (i, id) in ids.iter().enumerate() {
        let Some(id) = id else { continue };
        let field = format!("{p}[{i}].exercise_id");
        match builder.facts.get(id) {
            Some(f) if !f.usable_by(builder.caller, builder.admin) => {
                v.add(field, "unknown exercise")
            }
            None => v.add(field, "unknown exercise"),
            Some(f) if builder.public && !f.approved => v.add(
                field,
                "not yet approved: only a PRIVATE workout may use it until it is",
            ),
            Some(_) => {}
        }
    }
}

fn range<T: PartialOrd + Copy + std::fmt::Display>(
    v: &mut Violations,
    field: String,
    value: T,
    min: T,
    max: T,
) {
    if !(min <= value && value <= max) {
        v.add(field, format!("must be between {min} and {max}"));
    }
}

fn float(v: &mut Violations, field: String, value: f64, min: f64, max: f64) {
    if !value.is_finite() || value < min || value > max {
        v.add(field, format!("must be between {min} and {max}"));
    }
}

fn tempo_ok(tempo: &str) -> bool {
    let parts: Vec<&str> = tempo.split('-').collect();
    parts.len() == 4
        && parts.iter().all(|part| {
            part.eq_ignore_ascii_case("x")
                || ((1..=2).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit()))
        })
}

/// Validates every entry and returns them normalised: positions and blocks numbered,
/// block kinds resolved, a `set_plan` on every entry (the flat fields mirroring its
/// first working set), set types explicit. Violations are collected into `v`.
pub(super) fn normalise(
    v: &mut Violations,
    p: &str,
    entries: &[pb::WorkoutExercise],
    ids: &[Option<Uuid>],
    builder: &Builder<'_>,
) -> Vec<pb::WorkoutExercise> {
    if entries.is_empty() {
        v.add(p, "a workout needs at least one exercise");
    } else if entries.len() > MAX_ENTRIES {
        v.add(p, format!("at most {MAX_ENTRIES} exercises"));
    }
    check_exercises(v, p, ids, builder);
    let blocks = blocks(v, p, entries);
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.iter().enumerate() {
        let ep = format!("{p}[{i}]");
        let id = ids.get(i).copied().flatten();
        if entry.notes.chars().count() > 500 {
            v.add(format!("{ep}.notes"), "must be at most 500 characters");
        }
        let tempo = entry.tempo.trim().to_ascii_uppercase();
        if !tempo.is_empty() && (tempo.len() > 20 || !tempo_ok(&tempo)) {
            v.add(
                format!("{ep}.tempo"),
                "must be four '-'-separated seconds or X, like 3-1-1-0",
            );
        }
        let plan = set_plan(v, &ep, entry);
        if let Some(rule) = &entry.progression {
            progression(v, &format!("{ep}.progression"), rule, &plan);
        }
        let first = plan
            .iter()
            .find(|s| s.set_type == pb::SetType::Working as i32)
            .or_else(|| plan.first())
            .cloned()
            .unwrap_or_default();
        let (block, block_kind) = blocks.get(i).copied().unwrap_or((i as i32 + 1, 1));
        out.push(pb::WorkoutExercise {
            exercise_id: id.map(|id| id.to_string()).unwrap_or_default(),
            position: i as i32 + 1,
            sets: plan.len() as i32,
            reps: first.reps_min,
            duration_seconds: first.duration_seconds,
            rest_seconds: first.rest_seconds,
            weight_kg: match first.load {
                Some(Load::WeightKg(kg)) => Some(kg),
                _ => None,
            },
            notes: entry.notes.clone(),
            exercise: None,
            block,
            block_kind,
            set_plan: plan,
            progression: entry.progression,
            tempo,
        });
    }
    out
}

/// The (block number, block kind) of every entry, numbered 1.. in order.
fn blocks(v: &mut Violations, p: &str, entries: &[pb::WorkoutExercise]) -> Vec<(i32, i32)> {
    // Groups of consecutive entry indexes.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut previous: Option<i32> = None;
    let mut highest = 0;
    for (i, e) in entries.iter().enumerate() {
        let b = e.block;
        if b < 0 {
            v.add(
                format!("{p}[{i}].block"),
                "must be 0 or a 1-based block number",
            );
            groups.push(vec![i]);
            previous = None;
        } else if b == 0 {
            groups.push(vec![i]);
            previous = None;
        } else if previous == Some(b) {
            if let Some(group) = groups.last_mut() {
                group.push(i);
            }
        } else {
            if b <= highest {
                v.add(
                    format!("{p}[{i}].block"),
                    "blocks must be contiguous and ascending",
                );
            }
            highest = highest.max(b);
            groups.push(vec![i]);
            previous = Some(b);
        }
    }
    let mut out = vec![(0, 0); entries.len()];
    for (n, group) in groups.iter().enumerate() {
        let mut kind: Option<pb::BlockKind> = None;
        for &i in group {
            match pb::BlockKind::try_from(entries[i].block_kind) {
                Ok(pb::BlockKind::Unspecified) => {}
                Ok(k) => match kind {
                    None => kind = Some(k),
                    Some(first) if first != k => v.add(
                        format!("{p}[{i}].block_kind"),
                        "every entry of a block names the same kind",
                    ),
                    Some(_) => {}
                },
                Err(_) => v.add(format!("{p}[{i}].block_kind"), "unknown value"),
            }
        }
        let kind = kind.unwrap_or(pb::BlockKind::Single);
        let at = group[0];
        match kind {
            pb::BlockKind::Single if group.len() > 1 => v.add(
                format!("{p}[{}].block", group[1]),
                "a SINGLE block has one entry (use SUPERSET or CIRCUIT)",
            ),
            pb::BlockKind::Superset | pb::BlockKind::Circuit if group.len() < 2 => v.add(
                format!("{p}[{at}].block_kind"),
                "a superset or circuit needs at least two entries in its block",
            ),
            _ => {}
        }
        for &i in group {
            out[i] = (n as i32 + 1, kind as i32);
        }
    }
    out
}

/// The entry's sets one by one: its `set_plan`, or `sets` working sets of the flat fields.
fn set_plan(v: &mut Violations, ep: &str, e: &pb::WorkoutExercise) -> Vec<pb::SetPrescription> {
    if e.set_plan.is_empty() {
        range(v, format!("{ep}.sets"), e.sets, 1, MAX_SETS as i32);
        range(v, format!("{ep}.reps"), e.reps, 0, 1000);
        range(
            v,
            format!("{ep}.duration_seconds"),
            e.duration_seconds,
            0,
            3600,
        );
        range(v, format!("{ep}.rest_seconds"), e.rest_seconds, 0, 600);
        if let Some(kg) = e.weight_kg {
            float(v, format!("{ep}.weight_kg"), kg, 0.0, 1000.0);
        }
        if e.reps == 0 && e.duration_seconds <= 0 {
            v.add(
                format!("{ep}.reps"),
                "set reps, or duration_seconds for a timed set",
            );
        }
        let set = pb::SetPrescription {
            set_type: pb::SetType::Working as i32,
            reps_min: e.reps,
            reps_max: e.reps,
            load: e.weight_kg.map(Load::WeightKg),
            duration_seconds: e.duration_seconds,
            distance_meters: 0.0,
            rest_seconds: e.rest_seconds,
        };
        return vec![set; e.sets.clamp(0, MAX_SETS as i32) as usize];
    }
    if e.set_plan.len() > MAX_SETS {
        v.add(format!("{ep}.set_plan"), format!("at most {MAX_SETS} sets"));
    }
    e.set_plan
        .iter()
        .enumerate()
        .map(|(j, s)| {
            let sp = format!("{ep}.set_plan[{j}]");
            let set_type = match pb::SetType::try_from(s.set_type) {
                Ok(pb::SetType::Unspecified) => pb::SetType::Working,
                Ok(t) => t,
                Err(_) => {
                    v.add(format!("{sp}.set_type"), "unknown value");
                    pb::SetType::Working
                }
            };
            range(v, format!("{sp}.reps_min"), s.reps_min, 0, 1000);
            range(v, format!("{sp}.reps_max"), s.reps_max, 0, 1000);
            if s.reps_max != 0 && s.reps_max < s.reps_min {
                v.add(format!("{sp}.reps_max"), "must be at least reps_min");
            }
            match s.load {
                Some(Load::WeightKg(kg)) => float(v, format!("{sp}.weight_kg"), kg, 0.0, 1000.0),
                Some(Load::PercentOneRepMax(pct)) => {
                    float(v, format!("{sp}.percent_one_rep_max"), pct, 1.0, 120.0)
                }
                Some(Load::TargetRpe(rpe)) => float(v, format!("{sp}.target_rpe"), rpe, 1.0, 10.0),
                Some(Load::TargetRir(rir)) => range(v, format!("{sp}.target_rir"), rir, 0, 10),
                None => {}
            }
            range(
                v,
                format!("{sp}.duration_seconds"),
                s.duration_seconds,
                0,
                3600,
            );
            float(
                v,
                format!("{sp}.distance_meters"),
                s.distance_meters,
                0.0,
                100_000.0,
            );
            range(v, format!("{sp}.rest_seconds"), s.rest_seconds, 0, 600);
            let empty = s.reps_min <= 0
                && s.reps_max <= 0
                && s.duration_seconds <= 0
                && (s.distance_meters.is_nan() || s.distance_meters <= 0.0);
            if empty && set_type != pb::SetType::Amrap {
                v.add(
                    format!("{sp}.reps_min"),
                    "set reps, a duration or a distance",
                );
            }
            pb::SetPrescription {
                set_type: set_type as i32,
                reps_max: if s.reps_max == 0 {
                    s.reps_min
                } else {
                    s.reps_max
                },
                ..*s
            }
        })
        .collect()
}

fn progression(
    v: &mut Violations,
    pp: &str,
    rule: &pb::ProgressionRule,
    plan: &[pb::SetPrescription],
) {
    match &rule.rule {
        None => v.add(pp, "name linear or double_progression"),
        Some(Rule::Linear(l)) => {
            float(v, format!("{pp}.linear.add_kg"), l.add_kg, 0.0, 50.0);
            float(
                v,
                format!("{pp}.linear.add_percent"),
                l.add_percent,
                0.0,
                20.0,
            );
            range(
                v,
                format!("{pp}.linear.after_sessions"),
                l.after_sessions,
                0,
                10,
            );
            if l.add_kg == 0.0 && l.add_percent == 0.0 {
                v.add(format!("{pp}.linear"), "set add_kg or add_percent");
            }
        }
        Some(Rule::DoubleProgression(d)) => {
            float(
                v,
                format!("{pp}.double_progression.add_kg"),
                d.add_kg,
                0.0,
                50.0,
            );
            let working: Vec<&pb::SetPrescription> = plan
                .iter()
                .filter(|s| s.set_type == pb::SetType::Working as i32)
                .collect();
            if working.is_empty() || working.iter().any(|s| s.reps_max <= s.reps_min) {
                v.add(
                    format!("{pp}.double_progression"),
                    "needs a rep range (reps_min < reps_max) in every working set",
                );
            }
        }
    }
    range(
        v,
        format!("{pp}.deload_after_misses"),
        rule.deload_after_misses,
        0,
        10,
    );
    float(
        v,
        format!("{pp}.deload_percent"),
        rule.deload_percent,
        0.0,
        50.0,
    );
    if rule.deload_after_misses > 0 && rule.deload_percent == 0.0 {
        v.add(
            format!("{pp}.deload_percent"),
            "is required when deload_after_misses > 0",
        );
    }
    float(
        v,
        format!("{pp}.load_step_kg"),
        rule.load_step_kg,
        0.0,
        10.0,
    );
}
