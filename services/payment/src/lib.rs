//! tribe-payment: plans, subscriptions, tokenized payment methods, transactions, refunds
//! and entitlements (`trainertribe.payment.v1.PaymentService`) on PostgreSQL
//! `tribe_payment`, plus the billing worker that renews subscriptions.

pub mod app;
pub mod clock;
pub mod config;
pub mod convert;
pub mod domain;
pub mod grpc;
pub mod policy;
pub mod provider;
pub mod service;
pub mod store;
pub mod worker;

pub use app::{App, MIGRATOR};
pub use config::Config;
