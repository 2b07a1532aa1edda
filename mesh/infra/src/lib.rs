//! tribe-infra: the local infrastructure processes both the `tribe` launcher and the
//! services' tests start — the Envoy edge (its configuration, rendered from each
//! service's `policy::SURFACE`, and a supervised process), the JVM engines, and the
//! probes and process helpers they share. It depends on no service crate, so a service's
//! tests can use it without a dependency cycle.

pub mod engines;
pub mod envoy;
pub mod health;
pub mod procs;

use std::path::PathBuf;

/// The workspace root: `$TRIBE_ROOT`, else the parent of the `mesh/` directory this
/// crate is built from.
pub fn workspace_root() -> PathBuf {
    if let Some(root) = std::env::var_os("TRIBE_ROOT").filter(|v| !v.is_empty()) {
        return PathBuf::from(root);
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|mesh| mesh.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}
