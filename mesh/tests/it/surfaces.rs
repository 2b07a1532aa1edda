//! Each service's `policy::SURFACE` is the one declaration of its methods, and the mesh
//! reads it rather than restating lists. This checks the declarations against the
//! contracts: every RPC of the proto service has a policy, nothing else does, the
//! streaming methods are exactly the server-streaming RPCs, and the mesh's table names
//! the same gRPC service.

use std::collections::BTreeSet;

use prost::Message as _;
use tribe_mesh::services::SERVICES;

fn proto_service(
    set: &prost_types::FileDescriptorSet,
    full_name: &str,
) -> prost_types::ServiceDescriptorProto {
    set.file
        .iter()
        .flat_map(|f| f.service.iter().map(move |s| (f.package(), s)))
        .find(|(package, s)| format!("{package}.{}", s.name()) == full_name)
        .map(|(_, s)| s.clone())
        .unwrap_or_else(|| panic!("{full_name} is not in the descriptor set"))
}

#[test]
fn every_surface_matches_its_contract_and_the_mesh_table() {
    let set = prost_types::FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut checked = 0;
    for spec in SERVICES {
        let Some(surface) = spec.surface else {
            continue;
        };
        assert_eq!(
            surface.service, spec.grpc_service,
            "{}: the mesh table and the crate name different services",
            spec.name
        );
        assert_eq!(
            surface.name, spec.name,
            "{}: the crate calls itself {}",
            spec.name, surface.name
        );
        let service = proto_service(&set, surface.service);
        let rpcs: BTreeSet<&str> = service.method.iter().map(|m| m.name()).collect();
        let declared: BTreeSet<&str> = surface.methods.iter().map(|(m, _)| *m).collect();
        assert_eq!(
            declared.len(),
            surface.methods.len(),
            "{}: a method is declared twice",
            spec.name
        );
        assert_eq!(declared, rpcs, "{}: policies and RPCs differ", spec.name);
        let server_streaming: BTreeSet<&str> = service
            .method
            .iter()
            .filter(|m| m.server_streaming())
            .map(|m| m.name())
            .collect();
        let streaming: BTreeSet<&str> = surface.streaming.iter().copied().collect();
        assert_eq!(
            streaming, server_streaming,
            "{}: streaming methods differ from the contract",
            spec.name
        );
        assert!(
            surface.error_domain.starts_with(&format!("{}.", spec.name)),
            "{}: error domain {}",
            spec.name,
            surface.error_domain
        );
        checked += 1;
    }
    assert_eq!(
        checked, 6,
        "user, content, messaging, fitness, payment and analytics declare surfaces"
    );
}

#[test]
fn the_auth_table_and_the_edge_routes_come_from_the_same_surface() {
    for spec in SERVICES {
        let Some(surface) = spec.surface else {
            continue;
        };
        let policies = surface.policies();
        let upstream = spec.upstream(spec.listen_addr()).unwrap();
        for method in &upstream.internal_methods {
            let path = format!("/{}/{method}", surface.service);
            assert_eq!(
                policies.get(&path),
                Some(tribe_kit::auth::Policy::Internal),
                "{path}"
            );
        }
        for method in &upstream.anonymous_methods {
            let path = format!("/{}/{method}", surface.service);
            assert_eq!(
                policies.get(&path),
                Some(tribe_kit::auth::Policy::Public),
                "{path}"
            );
        }
        let paths: BTreeSet<String> = policies.paths().map(str::to_string).collect();
        assert_eq!(
            paths,
            surface.paths().into_iter().collect(),
            "{}",
            spec.name
        );
    }
}
