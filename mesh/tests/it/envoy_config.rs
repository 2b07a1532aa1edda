//! The rendered edge config is accepted by the real Envoy and has the shape the edge
//! relies on (filter order, refusals before routes, no catch-all, loopback admin).
use crate::common;
use serde_json::Value;
use tribe_mesh::envoy::{envoy_binary, render};

#[test]
fn rendered_config_with_two_upstreams_passes_envoy_validate() {
    let dir = tempfile::tempdir().unwrap();
    common::keys(dir.path());
    let params = common::params(
        dir.path(),
        vec![
            common::user_upstream(common::free_addr()),
            common::content_upstream(common::free_addr()),
        ],
    );
    let config = dir.path().join("envoy.yaml");
    std::fs::write(&config, render(&params)).unwrap();

    let binary = envoy_binary();
    assert!(
        binary.is_file(),
        "envoy binary missing at {} (run mesh/setup.sh envoy)",
        binary.display()
    );
    let out = std::process::Command::new(&binary)
        .args([
            "--mode",
            "validate",
            "--disable-hot-restart",
            "--log-level",
            "warn",
            "-c",
        ])
        .arg(&config)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "envoy rejected the config:\n{text}");
    assert!(text.contains("OK"), "{text}");
    assert!(
        !text.to_lowercase().contains("deprecated"),
        "config uses deprecated fields:\n{text}"
    );
}

#[test]
fn filters_routes_and_admin_have_the_edge_shape() {
    let dir = tempfile::tempdir().unwrap();
    let params = common::params(
        dir.path(),
        vec![
            common::user_upstream(common::free_addr()),
            common::content_upstream(common::free_addr()),
        ],
    );
    let doc: Value = serde_json::from_str(&render(&params)).unwrap();

    assert_eq!(
        doc["admin"]["address"]["socket_address"]["address"],
        "127.0.0.1"
    );
    let hcm =
        &doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][1]["typed_config"];
    let filters: Vec<&str> = hcm["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            "envoy.filters.http.health_check",
            "envoy.filters.http.cors",
            "envoy.filters.http.grpc_web",
            "envoy.filters.http.jwt_authn",
            "envoy.filters.http.local_ratelimit",
            "tribe.ratelimit.auth",
            "envoy.filters.http.router",
        ]
    );
    assert_eq!(hcm["codec_type"], "AUTO");
    assert_eq!(hcm["use_remote_address"], true);

    let routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap();
    let position = |pred: &dyn Fn(&Value) -> bool| routes.iter().position(pred).unwrap();
    let internal =
        position(&|r| r["match"]["path"] == "/trainertribe.user.v1.UserService/BatchGetUsers");
    let prefix = position(&|r| r["match"]["prefix"] == "/trainertribe.user.v1.UserService/");
    assert!(
        internal < prefix,
        "internal methods must be refused before the service route"
    );
    assert_eq!(routes[internal]["direct_response"]["status"], 404);
    assert!(
        routes.iter().all(|r| r["match"]["prefix"] != "/"),
        "no catch-all route"
    );
    // The internal streaming method is refused, not routed without a timeout.
    assert!(routes.iter().all(|r| !(r["match"]["path"]
        == "/trainertribe.user.v1.UserService/ListFollowerIds"
        && r.get("route").is_some())));
    let content = position(&|r| r["match"]["prefix"] == "/trainertribe.content.v1.ContentService/");
    assert_eq!(routes[content]["route"]["cluster"], "content");

    let clusters = doc["static_resources"]["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    assert_eq!(
        clusters[0]["health_checks"][0]["grpc_health_check"]["service_name"],
        "trainertribe.user.v1.UserService"
    );
}
