//! tribe-mesh: the local TrainerTribe mesh. The Envoy edge (`envoy`), the service table
//! (`services`), and the pieces of the `tribe` launcher: state and keys, migrations, the
//! engines (Kafka, Cassandra), child processes, health probes, `up` and `status`, `seed` and `bench`.

pub mod bench;
pub mod engines;
pub mod envoy;
pub mod health;
pub mod migrate;
pub mod procs;
pub mod roles;
pub mod seed;
pub mod services;
pub mod services_run;
pub mod state;
pub mod status;
pub mod ui;
pub mod up;

use std::path::PathBuf;

/// The workspace root: `$TRIBE_ROOT`, else the parent of this crate's directory.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("TRIBE_ROOT").filter(|v| !v.is_empty()) {
        return PathBuf::from(root);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
