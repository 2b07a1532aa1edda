//! Contract checks: messages of every service survive an encode/decode round trip, and
//! the descriptor set holds every service with the documentation and pagination shape
//! our conventions promise to client teams.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use prost::Message;
use prost_types::{DescriptorProto, FileDescriptorProto, FileDescriptorSet};
use tribe_proto::{analytics, content, events, fitness, messaging, payment, support, r#type, user};

fn round_trip<M: Message + Default + PartialEq + std::fmt::Debug>(message: M) {
    let bytes = message.encode_to_vec();
    assert!(!bytes.is_empty(), "a populated message encodes to bytes");
    let decoded = M::decode(bytes.as_slice()).expect("decodes");
    assert_eq!(decoded, message);
}

#[test]
fn one_message_of_every_service_round_trips() {
    round_trip(user::v1::RegisterRequest {
        email: "ana@example.com".into(),
        password: "correct horse battery".into(),
        handle: "ana".into(),
        display_name: "Ana".into(),
        account_type: user::v1::AccountType::Trainer as i32,
    });
    round_trip(content::v1::CreatePostRequest {
        post: Some(content::v1::Post {
            text: "leg day #strength".into(),
            ..Default::default()
        }),
        request_id: "req-1".into(),
    });
    round_trip(messaging::v1::SendMessageRequest {
        conversation_id: "c1".into(),
        text: "see you at 6".into(),
        media_url: String::new(),
        request_id: "req-2".into(),
    });
    round_trip(fitness::v1::ListUserProgressRequest {
        user_id: "u1".into(),
        time_range: Some(r#type::v1::TimeRange {
            start_time: Some(prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 0,
            }),
            end_time: Some(prost_types::Timestamp {
                seconds: 1_700_086_400,
                nanos: 0,
            }),
        }),
        page_size: 50,
        page_token: "abc".into(),
    });
    round_trip(support::v1::CreateTicketRequest {
        subject: "cannot log in".into(),
        description: "since yesterday".into(),
        category: support::v1::TicketCategory::Account as i32,
        priority: support::v1::TicketPriority::High as i32,
        request_id: "req-3".into(),
    });
    round_trip(payment::v1::CreateSubscriptionRequest {
        plan_id: "premium".into(),
        billing_cycle: payment::v1::BillingCycle::Yearly as i32,
        payment_method_id: "pm_1".into(),
        request_id: "req-4".into(),
    });
    round_trip(analytics::v1::TrackEventsRequest {
        events: vec![analytics::v1::TrackedEvent {
            client_event_id: "e1".into(),
            r#type: events::v1::ClientEventType::ViewPost as i32,
            target_id: "p1".into(),
            ..Default::default()
        }],
        send_time: None,
    });
    round_trip(events::v1::Event {
        event_id: "0190c1c2-0000-7000-8000-000000000000".into(),
        occur_time: Some(prost_types::Timestamp {
            seconds: 1,
            nanos: 2,
        }),
        actor_id: "u1".into(),
        trace: Some(events::v1::TraceContext {
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            tracestate: String::new(),
        }),
        aggregate_id: "u2".into(),
        producer: "user".into(),
        payload: Some(events::v1::event::Payload::UserFollowed(
            events::v1::UserFollowed {
                follower_id: "u1".into(),
                followee_id: "u2".into(),
            },
        )),
    });
    round_trip(r#type::v1::Money {
        amount_minor: 999,
        currency_code: "EUR".into(),
    });
}

fn descriptors() -> FileDescriptorSet {
    FileDescriptorSet::decode(tribe_proto::FILE_DESCRIPTOR_SET).expect("descriptor set decodes")
}

fn our_files(set: &FileDescriptorSet) -> impl Iterator<Item = &FileDescriptorProto> {
    set.file
        .iter()
        .filter(|f| f.package().starts_with("trainertribe."))
}

fn message<'a>(set: &'a FileDescriptorSet, full_name: &str) -> &'a DescriptorProto {
    let (package, name) = full_name
        .trim_start_matches('.')
        .rsplit_once('.')
        .expect("qualified name");
    our_files(set)
        .filter(|f| f.package() == package)
        .flat_map(|f| f.message_type.iter())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("message {full_name} not found"))
}

fn field_names(message: &DescriptorProto) -> Vec<&str> {
    message.field.iter().map(|f| f.name()).collect()
}

#[test]
fn descriptor_set_has_all_seven_services_and_the_event_envelope() {
    let set = descriptors();
    // The benchmark echo (trainertribe.bench.v1) is tooling, not a domain service.
    let services: Vec<String> = our_files(&set)
        .filter(|f| f.package() != "trainertribe.bench.v1")
        .flat_map(|f| {
            f.service
                .iter()
                .map(move |s| format!("{}.{}", f.package(), s.name()))
        })
        .collect();
    for name in tribe_proto::SERVICE_NAMES {
        assert!(
            services.iter().any(|s| s == name),
            "{name} missing from {services:?}"
        );
    }
    assert_eq!(
        services.len(),
        7,
        "exactly the seven domain services: {services:?}"
    );

    let envelope = message(&set, "trainertribe.events.v1.Event");
    for field in [
        "event_id",
        "occur_time",
        "actor_id",
        "trace",
        "aggregate_id",
        "user_followed",
        "post_created",
        "message_sent",
        "payment_succeeded",
    ] {
        assert!(
            field_names(envelope).contains(&field),
            "Event lacks {field}"
        );
    }
    // Every message of the events package is a payload of the envelope's oneof, so no
    // event can be defined and forgotten.
    let payload_types: Vec<&str> = envelope
        .field
        .iter()
        .filter(|f| f.oneof_index.is_some())
        .map(|f| f.type_name())
        .collect();
    for file in our_files(&set).filter(|f| f.package() == "trainertribe.events.v1") {
        for m in file
            .message_type
            .iter()
            .filter(|m| !matches!(m.name(), "Event" | "TraceContext"))
        {
            let full = format!(".trainertribe.events.v1.{}", m.name());
            assert!(
                payload_types.contains(&full.as_str()),
                "event {} is not in Event.payload",
                m.name()
            );
        }
    }
}

#[test]
fn every_rpc_states_who_may_call_it_and_its_errors() {
    let set = descriptors();
    let mut checked = 0;
    for file in our_files(&set) {
        let info = file
            .source_code_info
            .as_ref()
            .expect("source info is kept for reflection");
        for (s, service) in file.service.iter().enumerate() {
            for (m, method) in service.method.iter().enumerate() {
                let path = [6, s as i32, 2, m as i32];
                let comment = info
                    .location
                    .iter()
                    .find(|l| l.path == path)
                    .map(|l| l.leading_comments().to_string())
                    .unwrap_or_default();
                assert!(
                    comment.contains("Auth:"),
                    "{}.{} has no Auth: line",
                    service.name(),
                    method.name()
                );
                assert!(
                    comment.contains("Errors:"),
                    "{}.{} has no Errors: line",
                    service.name(),
                    method.name()
                );
                if comment.contains("Auth: internal") {
                    assert!(
                        comment.contains("not routed by Envoy"),
                        "{}.{} must say it is not routed",
                        service.name(),
                        method.name()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked > 100,
        "expected the full API surface, saw {checked} RPCs"
    );
}

#[test]
fn list_and_search_rpcs_paginate_per_aip_158() {
    let set = descriptors();
    let mut lists = 0;
    for file in our_files(&set) {
        for service in &file.service {
            for method in &service.method {
                let name = method.name();
                let is_list = name.starts_with("List") || name.starts_with("Search");
                if !is_list || method.server_streaming() {
                    continue;
                }
                let request = field_names(message(&set, method.input_type()));
                let response = field_names(message(&set, method.output_type()));
                assert!(
                    request.contains(&"page_size") && request.contains(&"page_token"),
                    "{name} request lacks page_size/page_token"
                );
                assert!(
                    response.contains(&"next_page_token"),
                    "{name} response lacks next_page_token"
                );
                lists += 1;
            }
        }
    }
    assert!(lists >= 30, "expected every list method, saw {lists}");
}

#[test]
fn enums_start_with_unspecified() {
    let set = descriptors();
    for file in our_files(&set) {
        let nested = file.message_type.iter().flat_map(|m| m.enum_type.iter());
        for e in file.enum_type.iter().chain(nested) {
            let first = &e.value[0];
            assert_eq!(first.number(), 0);
            assert!(
                first.name().ends_with("_UNSPECIFIED"),
                "{} starts with {}",
                e.name(),
                first.name()
            );
        }
    }
}
