//! Progression math: the concrete loads of a workout entry's next session from the
//! user's history of that entry and its rule. Pure functions, table-tested.
//!
//! The history is replayed oldest first: each session is judged against the targets in
//! force at that time (the rep target and the rounded load), and the rule moves the
//! state on (add load, climb a rep, deload). What is left is the next session.

use tribe_proto::fitness::v1 as pb;
use tribe_proto::fitness::v1::set_prescription::Load;

/// Load step when a rule names none (the smallest plate pair).
pub const DEFAULT_STEP_KG: f64 = 2.5;

/// Tolerance of load comparisons (loads are stored as floating point).
const EPSILON: f64 = 1e-6;

/// One performed working (or AMRAP) set of a past session.
#[derive(Debug, Clone, PartialEq)]
pub struct PastSet {
    pub reps: i32,
    pub weight_kg: Option<f64>,
    pub completed: bool,
    /// The log's own verdict against the static prescription; used for sets without a
    /// rep target (timed or distance sets).
    pub target_met: bool,
}

/// One past session of an entry: its working and AMRAP sets in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    pub sets: Vec<PastSet>,
}

/// The next session of an entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Next {
    pub sets: Vec<pb::SetPrescription>,
    pub note: String,
}

/// Epley's estimated one-rep max: the weight for a single, `w * (1 + reps / 30)` above;
/// `None` outside 1-12 reps or without a positive weight.
pub fn epley(weight_kg: f64, reps: i32) -> Option<f64> {
    if !(1..=12).contains(&reps) || weight_kg <= 0.0 || !weight_kg.is_finite() {
        return None;
    }
    if reps == 1 {
        Some(weight_kg)
    } else {
        Some(weight_kg * (1.0 + f64::from(reps) / 30.0))
    }
}

/// `kg` rounded down to a multiple of `step` (never below zero).
pub fn round_down(kg: f64, step: f64) -> f64 {
    let step = if step > 0.0 { step } else { DEFAULT_STEP_KG };
    let steps = (kg.max(0.0) / step + EPSILON).floor();
    ((steps * step) * 1000.0).round() / 1000.0
}

fn is_judged(set: &pb::SetPrescription) -> bool {
    matches!(
        pb::SetType::try_from(set.set_type),
        Ok(pb::SetType::Unspecified | pb::SetType::Working | pb::SetType::Amrap)
    )
}

/// What the last replayed session did to the state, for the note.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Added(String, u32),
    TopMet(f64, i32),
    Climbed(i32),
    Held(u32, u32),
    Missed(u32, u32),
    Deloaded(f64, u32),
}

struct State<'a> {
    plan: &'a [pb::SetPrescription],
    rule: Option<&'a pb::ProgressionRule>,
    step: f64,
    /// Unrounded load per planned set; `None` when the set has no absolute load.
    loads: Vec<Option<f64>>,
    /// Reps climbed above `reps_min` (double progression).
    climb: i32,
    successes: u32,
    misses: u32,
}

impl State<'_> {
    fn kind(&self) -> Option<&pb::progression_rule::Rule> {
        self.rule.and_then(|r| r.rule.as_ref())
    }

    fn target_reps(&self, set: &pb::SetPrescription) -> i32 {
        match self.kind() {
            Some(pb::progression_rule::Rule::DoubleProgression(_)) => {
                (set.reps_min + self.climb).min(set.reps_max.max(set.reps_min))
            }
            _ => set.reps_min,
        }
    }

    fn expected_load(&self, index: usize) -> Option<f64> {
        self.loads
            .get(index)
            .copied()
            .flatten()
            .map(|kg| round_down(kg, self.step))
    }

    /// Whether `session` met every judged set's target in force.
    fn met(&self, session: &Session) -> bool {
        let judged: Vec<usize> = (0..self.plan.len())
            .filter(|&i| is_judged(&self.plan[i]))
            .collect();
        if judged.is_empty() || session.sets.is_empty() {
            return false;
        }
        judged.iter().enumerate().all(|(n, &i)| {
            let Some(done) = session.sets.get(n) else {
                return false;
            };
            let target = self.target_reps(&self.plan[i]);
            let reps_ok = if target > 0 {
                done.reps >= target
            } else {
                done.target_met
            };
            let load_ok = match self.expected_load(i) {
                Some(kg) if kg > 0.0 => done.weight_kg.unwrap_or(0.0) + EPSILON >= kg,
                _ => true,
            };
            done.completed && reps_ok && load_ok
        })
    }

    fn add_kg(&mut self, kg: f64) {
        for load in self.loads.iter_mut().flatten() {
            *load += kg;
        }
    }

    fn scale(&mut self, factor: f64) {
        for load in self.loads.iter_mut().flatten() {
            *load *= factor;
        }
    }

    fn apply(&mut self, session: &Session) -> Step {
        if self.met(session) {
            self.misses = 0;
            self.on_success()
        } else {
            self.successes = 0;
            self.misses += 1;
            let after = self.rule.map_or(0, |r| r.deload_after_misses.max(0)) as u32;
            let percent = self.rule.map_or(0.0, |r| r.deload_percent);
            if after > 0 && self.misses >= after && percent > 0.0 {
                self.scale(1.0 - percent.min(100.0) / 100.0);
                self.misses = 0;
                Step::Deloaded(percent, after)
            } else {
                Step::Missed(self.misses, after)
            }
        }
    }

    fn on_success(&mut self) -> Step {
        match self.kind().cloned() {
            Some(pb::progression_rule::Rule::Linear(linear)) => {
                self.successes += 1;
                let needed = linear.after_sessions.max(1) as u32;
                if self.successes < needed {
                    return Step::Held(self.successes, needed);
                }
                self.successes = 0;
                if linear.add_kg > 0.0 {
                    self.add_kg(linear.add_kg);
                    Step::Added(format!("+{} kg", linear.add_kg), needed)
                } else if linear.add_percent > 0.0 {
                    self.scale(1.0 + linear.add_percent / 100.0);
                    Step::Added(format!("+{} %", linear.add_percent), needed)
                } else {
                    Step::Held(needed, needed)
                }
            }
            Some(pb::progression_rule::Rule::DoubleProgression(double)) => {
                let at_top = self
                    .plan
                    .iter()
                    .filter(|s| is_judged(s))
                    .all(|s| s.reps_min + self.climb >= s.reps_max);
                if at_top {
                    let add = if double.add_kg > 0.0 {
                        double.add_kg
                    } else {
                        self.step
                    };
                    self.add_kg(add);
                    self.climb = 0;
                    let bottom = self
                        .plan
                        .iter()
                        .find(|s| is_judged(s))
                        .map_or(0, |s| s.reps_min);
                    Step::TopMet(add, bottom)
                } else {
                    self.climb += 1;
                    let target = self
                        .plan
                        .iter()
                        .find(|s| is_judged(s))
                        .map_or(0, |s| self.target_reps(s));
                    Step::Climbed(target)
                }
            }
            None => Step::Held(1, 1),
        }
    }
}

fn sessions(n: u32) -> String {
    if n == 1 {
        "1 session".to_string()
    } else {
        format!("{n} sessions")
    }
}

fn note(step: Option<&Step>) -> String {
    match step {
        None => "no history: prescribed load".to_string(),
        Some(Step::Added(what, n)) => format!("{what}: {} met the target", sessions(*n)),
        Some(Step::TopMet(kg, bottom)) => {
            format!("+{kg} kg: top of the rep range met, back to {bottom} reps")
        }
        Some(Step::Climbed(target)) => {
            format!("+1 rep: the last session met the target, now {target} reps")
        }
        Some(Step::Held(done, needed)) if done < needed => {
            format!("same load: {done} of {} met the target", sessions(*needed))
        }
        Some(Step::Held(..)) => "same load: the last session met the target".to_string(),
        Some(Step::Missed(misses, after)) if *after > 0 => format!(
            "same load: {} missed the target, deload after {after}",
            sessions(*misses)
        ),
        Some(Step::Missed(..)) => "same load: the last session missed the target".to_string(),
        Some(Step::Deloaded(percent, misses)) => {
            format!("deload -{percent} %: {} missed", sessions(*misses))
        }
    }
}

/// The next session's concrete sets of an entry planned as `plan` with `rule`, from
/// `history` (most recent first) and the user's estimated one-rep max of the exercise
/// (for %1RM sets; `None` when unknown, which leaves those sets as percentages).
pub fn next_session(
    plan: &[pb::SetPrescription],
    rule: Option<&pb::ProgressionRule>,
    history: &[Session],
    one_rep_max_kg: Option<f64>,
) -> Next {
    let step = match rule.map(|r| r.load_step_kg) {
        Some(step) if step > 0.0 => step,
        _ => DEFAULT_STEP_KG,
    };
    let loads = plan
        .iter()
        .map(|set| match set.load {
            Some(Load::WeightKg(kg)) => Some(kg),
            Some(Load::PercentOneRepMax(percent)) => one_rep_max_kg
                .filter(|m| *m > 0.0)
                .map(|m| m * percent / 100.0),
            _ => None,
        })
        .collect();
    let mut state = State {
        plan,
        rule,
        step,
        loads,
        climb: 0,
        successes: 0,
        misses: 0,
    };
    let mut last = None;
    for session in history.iter().rev().filter(|s| !s.sets.is_empty()) {
        last = Some(state.apply(session));
    }
    let sets = plan
        .iter()
        .enumerate()
        .map(|(i, set)| {
            let mut out = *set;
            if let Some(kg) = state.expected_load(i) {
                out.load = Some(Load::WeightKg(kg));
            }
            if is_judged(set)
                && matches!(
                    state.kind(),
                    Some(pb::progression_rule::Rule::DoubleProgression(_))
                )
            {
                let target = state.target_reps(set);
                out.reps_min = target;
                out.reps_max = target;
            }
            out
        })
        .collect();
    Next {
        sets,
        note: note(last.as_ref()),
    }
}

#[cfg(test)]
mod tests;
