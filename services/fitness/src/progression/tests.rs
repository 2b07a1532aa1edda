//! Table-driven tests of the progression math.

use super::*;
use pb::progression_rule::Rule;

fn working(reps_min: i32, reps_max: i32, load: Option<Load>) -> pb::SetPrescription {
    pb::SetPrescription {
        set_type: pb::SetType::Working as i32,
        reps_min,
        reps_max,
        load,
        ..Default::default()
    }
}

fn kg(w: f64) -> Option<Load> {
    Some(Load::WeightKg(w))
}

fn linear(add_kg: f64, add_percent: f64, after: i32) -> pb::ProgressionRule {
    pb::ProgressionRule {
        rule: Some(Rule::Linear(pb::LinearProgression {
            add_kg,
            add_percent,
            after_sessions: after,
        })),
        ..Default::default()
    }
}

fn double(add_kg: f64) -> pb::ProgressionRule {
    pb::ProgressionRule {
        rule: Some(Rule::DoubleProgression(pb::DoubleProgression { add_kg })),
        ..Default::default()
    }
}

/// A session of `count` completed sets of `reps` at `weight`.
fn session(count: usize, reps: i32, weight: f64) -> Session {
    Session {
        sets: vec![
            PastSet {
                reps,
                weight_kg: Some(weight),
                completed: true,
                target_met: true,
            };
            count
        ],
    }
}

fn loads(next: &Next) -> Vec<Option<f64>> {
    next.sets
        .iter()
        .map(|s| match s.load {
            Some(Load::WeightKg(w)) => Some(w),
            _ => None,
        })
        .collect()
}

fn reps(next: &Next) -> Vec<i32> {
    next.sets.iter().map(|s| s.reps_min).collect()
}

#[test]
fn linear_progression() {
    let plan = vec![working(5, 5, kg(100.0)); 3];
    // (rule, history most recent first, expected load, note contains)
    let cases: Vec<(pb::ProgressionRule, Vec<Session>, f64, &str)> = vec![
        (linear(2.5, 0.0, 1), vec![], 100.0, "no history"),
        (
            linear(2.5, 0.0, 1),
            vec![session(3, 5, 100.0)],
            102.5,
            "+2.5 kg: 1 session met",
        ),
        (
            linear(2.5, 0.0, 2),
            vec![session(3, 5, 100.0)],
            100.0,
            "1 of 2 sessions",
        ),
        (
            linear(2.5, 0.0, 2),
            vec![session(3, 5, 100.0), session(3, 5, 100.0)],
            102.5,
            "+2.5 kg: 2 sessions met the target",
        ),
        // Missed reps: no change.
        (
            linear(2.5, 0.0, 1),
            vec![session(3, 4, 100.0)],
            100.0,
            "missed",
        ),
        // Too light: not the target in force.
        (
            linear(2.5, 0.0, 1),
            vec![session(3, 5, 97.5)],
            100.0,
            "missed",
        ),
        // Three successes with a step each: 107.5, the last judged at 105.
        (
            linear(2.5, 0.0, 1),
            vec![
                session(3, 5, 105.0),
                session(3, 5, 102.5),
                session(3, 5, 100.0),
            ],
            107.5,
            "+2.5 kg",
        ),
        // The second session lifted the old load: a miss.
        (
            linear(2.5, 0.0, 1),
            vec![session(3, 5, 100.0), session(3, 5, 100.0)],
            102.5,
            "missed",
        ),
        // +5 %: 105, rounded down to the step.
        (
            linear(0.0, 5.0, 1),
            vec![session(3, 5, 100.0)],
            105.0,
            "+5 %",
        ),
        // +3 %: 103 -> 102.5.
        (
            linear(0.0, 3.0, 1),
            vec![session(3, 5, 100.0)],
            102.5,
            "+3 %",
        ),
    ];
    for (i, (rule, history, expected, note)) in cases.into_iter().enumerate() {
        let next = next_session(&plan, Some(&rule), &history, None);
        assert_eq!(loads(&next), vec![Some(expected); 3], "case {i}");
        assert!(next.note.contains(note), "case {i}: {}", next.note);
    }
}

#[test]
fn an_incomplete_or_short_session_is_a_miss() {
    let plan = vec![working(5, 5, kg(100.0)); 3];
    let rule = linear(2.5, 0.0, 1);
    let mut failed = session(3, 5, 100.0);
    failed.sets[2].completed = false;
    let short = session(2, 5, 100.0);
    for history in [vec![failed], vec![short]] {
        let next = next_session(&plan, Some(&rule), &history, None);
        assert_eq!(loads(&next), vec![Some(100.0); 3]);
    }
}

#[test]
fn double_progression() {
    let plan = vec![working(8, 12, kg(40.0)); 2];
    let rule = double(2.5);
    // (history most recent first, expected reps, expected load, note contains)
    let cases: Vec<(Vec<Session>, i32, f64, &str)> = vec![
        (vec![], 8, 40.0, "no history"),
        (vec![session(2, 8, 40.0)], 9, 40.0, "now 9 reps"),
        (vec![session(2, 7, 40.0)], 8, 40.0, "missed"),
        (
            vec![session(2, 9, 40.0), session(2, 8, 40.0)],
            10,
            40.0,
            "now 10 reps",
        ),
        // 8, 9, 10, 11, 12 met: +2.5 kg, back to 8.
        (
            vec![
                session(2, 12, 40.0),
                session(2, 11, 40.0),
                session(2, 10, 40.0),
                session(2, 9, 40.0),
                session(2, 8, 40.0),
            ],
            8,
            42.5,
            "back to 8 reps",
        ),
        // Rep target 9 but only 8 done: stays at 9.
        (
            vec![session(2, 8, 40.0), session(2, 8, 40.0)],
            9,
            40.0,
            "missed",
        ),
    ];
    for (i, (history, expected_reps, expected_load, note)) in cases.into_iter().enumerate() {
        let next = next_session(&plan, Some(&rule), &history, None);
        assert_eq!(reps(&next), vec![expected_reps; 2], "case {i}");
        assert_eq!(loads(&next), vec![Some(expected_load); 2], "case {i}");
        assert!(next.note.contains(note), "case {i}: {}", next.note);
    }
}

#[test]
fn double_progression_without_add_uses_the_load_step() {
    let plan = vec![working(10, 10, kg(20.0))];
    let rule = pb::ProgressionRule {
        load_step_kg: 1.0,
        ..double(0.0)
    };
    let next = next_session(&plan, Some(&rule), &[session(1, 10, 20.0)], None);
    assert_eq!(loads(&next), vec![Some(21.0)]);
}

#[test]
fn deload_after_consecutive_misses() {
    let plan = vec![working(5, 5, kg(100.0)); 3];
    let rule = pb::ProgressionRule {
        deload_after_misses: 3,
        deload_percent: 10.0,
        ..linear(2.5, 0.0, 1)
    };
    let miss = || session(3, 3, 100.0);
    // (history most recent first, expected load, note contains)
    let cases: Vec<(Vec<Session>, f64, &str)> = vec![
        (vec![miss(), miss()], 100.0, "2 sessions missed"),
        (
            vec![miss(), miss(), miss()],
            90.0,
            "deload -10 %: 3 sessions missed",
        ),
        // A success in between resets the count.
        (
            vec![
                session(3, 3, 102.5),
                session(3, 3, 102.5),
                session(3, 5, 100.0),
                miss(),
            ],
            102.5,
            "2 sessions missed",
        ),
        // The deloaded load (90) is met afterwards: +2.5.
        (
            vec![session(3, 5, 90.0), miss(), miss(), miss()],
            92.5,
            "+2.5 kg",
        ),
    ];
    for (i, (history, expected, note)) in cases.into_iter().enumerate() {
        let next = next_session(&plan, Some(&rule), &history, None);
        assert_eq!(loads(&next), vec![Some(expected); 3], "case {i}");
        assert!(next.note.contains(note), "case {i}: {}", next.note);
    }
}

#[test]
fn rounding_down_to_the_step() {
    let cases = [
        (101.0, 2.5, 100.0),
        (102.5, 2.5, 102.5),
        (102.49, 2.5, 100.0),
        (23.9, 2.0, 22.0),
        (17.3, 0.0, 15.0),
        (-4.0, 2.5, 0.0),
        (0.3, 0.5, 0.0),
        (7.75, 1.25, 7.5),
    ];
    for (kg, step, expected) in cases {
        assert_eq!(round_down(kg, step), expected, "{kg} by {step}");
    }
}

#[test]
fn percent_of_one_rep_max() {
    let plan = vec![
        working(5, 5, Some(Load::PercentOneRepMax(80.0))),
        working(5, 5, Some(Load::PercentOneRepMax(75.0))),
    ];
    // (estimated 1RM, rule step, expected loads)
    let cases = [
        (Some(120.0), 0.0, vec![Some(95.0), Some(90.0)]),
        (Some(123.0), 0.0, vec![Some(97.5), Some(90.0)]),
        (Some(123.0), 1.0, vec![Some(98.0), Some(92.0)]),
        (None, 0.0, vec![None, None]),
    ];
    for (max, step, expected) in cases {
        let rule = pb::ProgressionRule {
            load_step_kg: step,
            ..linear(2.5, 0.0, 1)
        };
        let next = next_session(&plan, Some(&rule), &[], max);
        assert_eq!(loads(&next), expected, "1RM {max:?} step {step}");
        if max.is_none() {
            assert!(matches!(
                next.sets[0].load,
                Some(Load::PercentOneRepMax(p)) if p == 80.0
            ));
        }
    }
}

#[test]
fn epley_estimates() {
    let cases = [
        (100.0, 1, Some(100.0)),
        (100.0, 5, Some(100.0 * (1.0 + 5.0 / 30.0))),
        (90.0, 12, Some(126.0)),
        (90.0, 13, None),
        (90.0, 0, None),
        (0.0, 5, None),
    ];
    for (weight, reps, expected) in cases {
        let got = epley(weight, reps);
        match (got, expected) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{weight} x {reps}"),
            (a, b) => assert_eq!(a, b, "{weight} x {reps}"),
        }
    }
}

#[test]
fn warm_ups_and_bodyweight_sets() {
    let warm_up = pb::SetPrescription {
        set_type: pb::SetType::WarmUp as i32,
        reps_min: 8,
        load: kg(60.0),
        ..Default::default()
    };
    let plan = vec![warm_up, working(10, 10, None)];
    let rule = linear(2.5, 0.0, 1);
    // Only the working set is judged: the one past set is it.
    let history = vec![Session {
        sets: vec![PastSet {
            reps: 10,
            weight_kg: None,
            completed: true,
            target_met: true,
        }],
    }];
    let next = next_session(&plan, Some(&rule), &history, None);
    assert_eq!(loads(&next), vec![Some(62.5), None]);
    assert!(next.note.contains("+2.5 kg"), "{}", next.note);
}

#[test]
fn no_rule_keeps_the_prescription() {
    let plan = vec![working(5, 5, kg(60.0))];
    let next = next_session(&plan, None, &[session(1, 5, 60.0)], None);
    assert_eq!(loads(&next), vec![Some(60.0)]);
    assert!(next.note.contains("same load"), "{}", next.note);
}
