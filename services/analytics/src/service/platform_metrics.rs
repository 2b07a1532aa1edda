//! GetPlatformMetrics: platform-wide activity and revenue per currency.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use tribe_kit::{ApiError, Violations};
use tribe_proto::analytics::v1 as pb;
use tribe_proto::r#type::v1::Money;

use super::AnalyticsService;
use super::view_common::{buckets_of, get, window};
use crate::domain::{Metric, revenue_currency, subject as s};
use crate::store::views as store;
use crate::time::timestamp;

/// Money entries from the revenue counters, sorted by currency code.
fn revenue(map: &HashMap<String, i64>) -> Vec<Money> {
    let by_code: BTreeMap<&str, i64> = map
        .iter()
        .filter_map(|(k, v)| revenue_currency(k).map(|code| (code, *v)))
        .collect();
    by_code
        .into_iter()
        .map(|(code, amount_minor)| Money {
            amount_minor,
            currency_code: code.to_string(),
            ..Default::default()
        })
        .collect()
}

fn add_revenue(total: &mut BTreeMap<String, i64>, entries: &[Money]) {
    for e in entries {
        *total.entry(e.currency_code.clone()).or_default() += e.amount_minor;
    }
}

impl AnalyticsService {
    pub async fn platform_metrics(
        &self,
        req: pb::GetPlatformMetricsRequest,
        now: DateTime<Utc>,
    ) -> Result<pb::PlatformMetrics, ApiError> {
        let pb::GetPlatformMetricsRequest {
            time_range,
            granularity,
        } = req;
        let window = window(time_range.as_ref(), granularity, Violations::new(), now)?;
        let subject = s::PLATFORM.to_string();
        let series = store::series(&self.pool, std::slice::from_ref(&subject), &window).await?;
        let (active, active_total) = store::distinct(&self.pool, s::ACTIVE_USERS, &window).await?;
        let mut totals = pb::PlatformMetricValues::default();
        let mut revenue_total = BTreeMap::new();
        let buckets = buckets_of(&series, &subject, &window)
            .iter()
            .zip(window.starts())
            .zip(active)
            .map(|((map, start), active_users)| {
                let metrics = pb::PlatformMetricValues {
                    active_users,
                    new_users: get(map, Metric::NewUsers),
                    posts_created: get(map, Metric::PostsCreated),
                    comments_created: get(map, Metric::CommentsCreated),
                    messages_sent: get(map, Metric::MessagesSent),
                    workouts_completed: get(map, Metric::WorkoutsCompleted),
                    engagements: get(map, Metric::Engagements),
                    revenue: revenue(map),
                };
                totals.new_users += metrics.new_users;
                totals.posts_created += metrics.posts_created;
                totals.comments_created += metrics.comments_created;
                totals.messages_sent += metrics.messages_sent;
                totals.workouts_completed += metrics.workouts_completed;
                totals.engagements += metrics.engagements;
                add_revenue(&mut revenue_total, &metrics.revenue);
                pb::PlatformMetricsBucket {
                    start_time: Some(timestamp(start)),
                    metrics: Some(metrics),
                }
            })
            .collect();
        totals.active_users = active_total;
        totals.revenue = revenue_total
            .into_iter()
            .map(|(currency_code, amount_minor)| Money {
                amount_minor,
                currency_code,
                ..Default::default()
            })
            .collect();
        Ok(pb::PlatformMetrics {
            time_range: Some(window.time_range()),
            granularity: window.gran.to_proto() as i32,
            buckets,
            totals: Some(totals),
            watermark_time: self.watermark().await?,
        })
    }
}
