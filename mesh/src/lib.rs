//! tribe-mesh: the local TrainerTribe mesh. The Envoy edge (`envoy`), the service table
//! (`services`), and the pieces of the `tribe` launcher: state and keys, migrations, the
//! engines (Kafka, Cassandra), child processes, health probes, `up` and `status`, `seed` and `bench`.

pub mod bench;
pub mod engines;
pub mod migrate;
pub mod roles;
pub mod seed;
pub mod services;
pub mod services_run;
pub mod state;
pub mod status;
pub mod ui;
pub mod up;

pub use tribe_infra::{envoy, health, procs, workspace_root};
