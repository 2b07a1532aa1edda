//! Generated code for every TrainerTribe protobuf contract (messages, tonic clients and
//! servers) and the descriptor set used for gRPC reflection.
//!
//! Modules follow the proto packages: `tribe_proto::user::v1`, `tribe_proto::events::v1`,
//! `tribe_proto::r#type::v1`, ...

#![allow(clippy::all, clippy::pedantic, missing_docs)]

mod generated {
    include!(concat!(env!("OUT_DIR"), "/trainertribe.rs"));
}

pub use generated::trainertribe::*;

/// Encoded `google.protobuf.FileDescriptorSet` of every contract, with source info, for
/// `tonic-reflection` and for tools that need the schema at run time.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/trainertribe_descriptor.bin"));

/// Fully qualified names of the seven domain services, as routed by the Envoy edge.
pub const SERVICE_NAMES: [&str; 7] = [
    "trainertribe.user.v1.UserService",
    "trainertribe.content.v1.ContentService",
    "trainertribe.messaging.v1.MessagingService",
    "trainertribe.fitness.v1.FitnessService",
    "trainertribe.support.v1.SupportService",
    "trainertribe.payment.v1.PaymentService",
    "trainertribe.analytics.v1.AnalyticsService",
];
