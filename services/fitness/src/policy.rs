//! Who may call each FitnessService method. Every method is listed; the auth layer refuses
//! anything missing. Ownership, coaching, visibility and premium rules are checked in
//! the use-cases.

use tribe_kit::auth::Policy::*;
use tribe_kit::auth::{MethodPolicies, Surface};

/// Who may call each method, the edge's routing facts and the error domain: the one
/// place they are declared (the auth layer, the mesh's Envoy config and the error
/// conversion all read this).
pub const SURFACE: Surface = Surface {
    name: SERVICE_NAME,
    service: SERVICE,
    error_domain: ERROR_DOMAIN,
    methods: &[
        ("ListCategories", AnyUser),
        ("CreateExercise", Trainer),
        ("ListExercises", AnyUser),
        ("GetExercise", AnyUser),
        ("CreateWorkout", AnyUser),
        ("ListWorkouts", AnyUser),
        ("GetWorkout", AnyUser),
        ("UpdateWorkout", AnyUser),
        ("DeleteWorkout", AnyUser),
        ("CreateProgram", Trainer),
        ("ListPrograms", AnyUser),
        ("GetProgram", AnyUser),
        ("EnrollInProgram", AnyUser),
        ("ListMyEnrollments", AnyUser),
        ("LogProgress", AnyUser),
        ("ListUserProgress", AnyUser),
        ("GetProgressStats", AnyUser),
        ("CreateNutrition", Trainer),
        ("ListNutrition", AnyUser),
        ("GetNutrition", AnyUser),
        ("CreateChallenge", Trainer),
        ("ListChallenges", AnyUser),
        ("GetChallenge", AnyUser),
        ("JoinChallenge", AnyUser),
        ("LeaveChallenge", AnyUser),
        ("GetChallengeLeaderboard", AnyUser),
        ("UpdateExercise", AnyUser),
        ("DeleteExercise", AnyUser),
        ("ReviewExercise", Admin),
        ("ListFoods", AnyUser),
        ("GetTodaysSession", AnyUser),
        ("PauseEnrollment", AnyUser),
        ("ResumeEnrollment", AnyUser),
        ("LeaveEnrollment", AnyUser),
        ("InviteClient", Trainer),
        ("AcceptCoaching", AnyUser),
        ("EndCoaching", AnyUser),
        ("ListCoachings", AnyUser),
        ("AssignProgram", Trainer),
        ("UpdateProgressLog", AnyUser),
        ("DeleteProgressLog", AnyUser),
        ("GetExerciseHistory", AnyUser),
        ("LogBodyMeasurement", AnyUser),
        ("ListBodyMeasurements", AnyUser),
        ("DeleteBodyMeasurement", AnyUser),
    ],
    streaming: &[],
};

/// The service's short name: its database, topic and key prefixes, and the name it
/// signs its calls to other services as.
pub const SERVICE_NAME: &str = "fitness";
/// The gRPC service this crate serves.
pub const SERVICE: &str = "trainertribe.fitness.v1.FitnessService";
/// The `ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "fitness.trainertribe.dev";

pub fn policies() -> MethodPolicies {
    SURFACE.policies()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use prost::Message;

    use super::*;

    /// Every RPC in the descriptor set has a policy, and no policy names a missing RPC.
    #[test]
    fn every_method_has_a_policy() {
        let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET)
            .unwrap_or_default();
        let declared: BTreeSet<String> = set
            .file
            .iter()
            .filter(|f| f.package() == "trainertribe.fitness.v1")
            .flat_map(|f| f.service.iter().map(move |s| (f.package().to_string(), s)))
            .flat_map(|(pkg, s)| {
                s.method
                    .iter()
                    .map(move |m| format!("/{pkg}.{}/{}", s.name(), m.name()))
            })
            .collect();
        assert!(
            !declared.is_empty(),
            "descriptor set has the fitness service"
        );
        let policies = policies();
        let covered: BTreeSet<String> = policies.paths().map(str::to_string).collect();
        assert_eq!(declared, covered);
    }
}
