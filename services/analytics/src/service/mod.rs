//! Use-cases of the analytics service: the user, content and creator views (`views`,
//! helpers in `view_common`), platform metrics (`platform_metrics`), the intake of tracked
//! client events (`track`) and the consumer's status and watermark (`status`). Each
//! validates its request completely before touching storage and returns `ApiError`;
//! `grpc.rs` turns that into a `Status`.

mod platform_metrics;
mod status;
mod track;
mod view_common;
mod views;

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tribe_kit::config::KafkaConfig;

use crate::content_client::ContentClient;
use crate::store::throttle::Throttle;

/// Shared state of the use-cases.
#[derive(Clone)]
pub struct AnalyticsService {
    pool: PgPool,
    kafka: KafkaConfig,
    content: Option<ContentClient>,
    throttle: Throttle,
    track_events_per_minute: u64,
    watermark: Watermark,
}

impl std::fmt::Debug for AnalyticsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnalyticsService")
            .field("track_events_per_minute", &self.track_events_per_minute)
            .finish_non_exhaustive()
    }
}

/// Construction parameters of [`AnalyticsService`].
pub struct Deps {
    pub pool: PgPool,
    /// The broker the consumer status reads offsets from.
    pub kafka: KafkaConfig,
    /// The content service, for the authors of posts not seen in events yet.
    pub content: Option<ContentClient>,
    pub throttle: Throttle,
    /// Tracked events one user may send per minute.
    pub track_events_per_minute: u64,
}

impl AnalyticsService {
    pub fn new(deps: Deps) -> Self {
        let Deps {
            pool,
            kafka,
            content,
            throttle,
            track_events_per_minute,
        } = deps;
        Self {
            pool,
            kafka,
            content,
            throttle,
            track_events_per_minute,
            watermark: Watermark::default(),
        }
    }
}

/// The consumers' watermark as last computed from the broker (see
/// [`AnalyticsService::refresh_watermark`]), reported by the views.
#[derive(Debug, Clone, Default)]
struct Watermark(Arc<RwLock<Option<DateTime<Utc>>>>);

impl Watermark {
    fn get(&self) -> Option<DateTime<Utc>> {
        self.0.read().ok().and_then(|w| *w)
    }

    fn set(&self, value: DateTime<Utc>) {
        if let Ok(mut w) = self.0.write() {
            *w = Some(value);
        }
    }
}
