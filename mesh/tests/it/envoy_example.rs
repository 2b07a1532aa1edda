//! `mesh/envoy/edge.example.json` is the edge config for the full mesh with the default
//! ports, checked in so that a change to the edge shows up in review as a config diff.
//! Regenerate with `TRIBE_BLESS=1 cargo test -p tribe-mesh --test it envoy_example`.
use std::path::PathBuf;

use tribe_mesh::envoy::{EnvoyParams, render};
use tribe_mesh::services::SERVICES;

#[test]
fn checked_in_example_matches_the_renderer() {
    let params = EnvoyParams::new(
        ([127, 0, 0, 1], 8080).into(),
        ([127, 0, 0, 1], 9901).into(),
        PathBuf::from(".tribe/keys/edge-jwks.json"),
        SERVICES
            .iter()
            .filter_map(|s| s.upstream(s.listen_addr()))
            .collect(),
    );
    let rendered = format!("{}\n", render(&params));
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("envoy/edge.example.json");
    if std::env::var_os("TRIBE_BLESS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == rendered,
        "{} is out of date; regenerate it with TRIBE_BLESS=1 cargo test -p tribe-mesh --test it envoy_example",
        path.display()
    );
}
