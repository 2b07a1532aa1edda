//! The per-subject analytics views (GetUserAnalytics, GetContentAnalytics,
//! GetCreatorInsights), built from the hourly rollups and distinct sets, with their
//! validation and object-level authorization. GetPlatformMetrics is in
//! `platform_metrics.rs`; what the views share is in `view_common.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use tonic::Code;
use tribe_kit::auth::{Role, UserPrincipal};
use tribe_kit::{ApiError, Violations};
use tribe_proto::analytics::v1 as pb;

use super::AnalyticsService;
use super::view_common::{buckets_of, get, rate_bps, window};
use crate::domain::{Metric, subject as s};
use crate::store::views as store;
use crate::store::{post_authors, remember_post};
use crate::time::{Window, timestamp};

/// Most posts one GetContentAnalytics call may name.
pub const MAX_POSTS: usize = 50;
/// Most top posts GetCreatorInsights returns, and its default.
pub const MAX_TOP_POSTS: i32 = 50;
pub const DEFAULT_TOP_POSTS: i32 = 10;

/// A post's creation time and metric sums.
type PostRollup = (Option<DateTime<Utc>>, HashMap<String, i64>);

fn post_metrics(map: &HashMap<String, i64>, unique_viewers: i64) -> pb::PostMetrics {
    let (views, likes, comments, shares, saves) = (
        get(map, Metric::Views),
        get(map, Metric::Likes),
        get(map, Metric::Comments),
        get(map, Metric::Shares),
        get(map, Metric::Saves),
    );
    let engagements = likes + comments + shares + saves;
    pb::PostMetrics {
        views,
        unique_viewers,
        likes,
        comments,
        shares,
        saves,
        engagements,
        engagement_rate_bps: rate_bps(engagements, views),
    }
}

fn sum_post(total: &mut pb::PostMetrics, b: &pb::PostMetrics) {
    total.views += b.views;
    total.likes += b.likes;
    total.comments += b.comments;
    total.shares += b.shares;
    total.saves += b.saves;
    total.engagements += b.engagements;
    total.engagement_rate_bps = rate_bps(total.engagements, total.views);
}

/// A post that does not exist or is not the caller's: the same answer for both.
fn post_not_found(post_id: &str) -> ApiError {
    ApiError::rejected(
        Code::NotFound,
        "POST_NOT_FOUND",
        format!("post {post_id} not found"),
    )
    .with_info("post_id", post_id)
}

impl AnalyticsService {
    /// Authors of `ids`: from consumed content events, else (when configured) from the
    /// content service, remembered for next time. A content service that cannot be
    /// reached leaves those posts unknown.
    async fn authors(&self, ids: &[String]) -> Result<HashMap<String, String>, ApiError> {
        let mut authors = post_authors(&self.pool, ids).await?;
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !authors.contains_key(*id))
            .cloned()
            .collect();
        let Some(content) = self.content.as_ref().filter(|_| !missing.is_empty()) else {
            return Ok(authors);
        };
        match content.posts(&missing).await {
            Ok(found) => {
                for post in found {
                    if !missing.contains(&post.post_id) {
                        continue;
                    }
                    remember_post(&self.pool, &post.post_id, &post.author_id, post.create_time)
                        .await?;
                    authors.insert(post.post_id, post.author_id);
                }
            }
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "content service fallback failed"
            ),
        }
        Ok(authors)
    }

    pub async fn user_analytics(
        &self,
        caller: &UserPrincipal,
        req: pb::GetUserAnalyticsRequest,
        now: DateTime<Utc>,
    ) -> Result<pb::UserAnalytics, ApiError> {
        let pb::GetUserAnalyticsRequest {
            user_id,
            time_range,
            granularity,
        } = req;
        let mut v = Violations::new();
        if user_id.is_empty() {
            v.add("user_id", "is required");
        }
        let window = window(time_range.as_ref(), granularity, v, now)?;
        if caller.user_id != user_id {
            return Err(ApiError::permission_denied(
                "only your own activity is visible",
            ));
        }
        // The caller's own id as events spell it (the request may differ in case).
        let subject = s::user(caller.subject());
        let series = store::series(&self.pool, std::slice::from_ref(&subject), &window).await?;
        let mut totals = pb::UserActivityMetrics::default();
        let buckets = buckets_of(&series, &subject, &window)
            .iter()
            .zip(window.starts())
            .map(|(map, start)| {
                let metrics = pb::UserActivityMetrics {
                    workouts_completed: get(map, Metric::WorkoutsCompleted),
                    workout_minutes: get(map, Metric::WorkoutSeconds) / 60,
                    posts_created: get(map, Metric::PostsCreated),
                    likes_given: get(map, Metric::LikesGiven),
                    likes_received: get(map, Metric::LikesReceived),
                    comments_received: get(map, Metric::CommentsReceived),
                    followers_gained: get(map, Metric::FollowersGained),
                    followers_lost: get(map, Metric::FollowersLost),
                    messages_sent: get(map, Metric::MessagesSent),
                };
                totals.workouts_completed += metrics.workouts_completed;
                totals.workout_minutes += metrics.workout_minutes;
                totals.posts_created += metrics.posts_created;
                totals.likes_given += metrics.likes_given;
                totals.likes_received += metrics.likes_received;
                totals.comments_received += metrics.comments_received;
                totals.followers_gained += metrics.followers_gained;
                totals.followers_lost += metrics.followers_lost;
                totals.messages_sent += metrics.messages_sent;
                pb::UserActivityBucket {
                    start_time: Some(timestamp(start)),
                    metrics: Some(metrics),
                }
            })
            .collect();
        Ok(pb::UserAnalytics {
            user_id,
            time_range: Some(window.time_range()),
            granularity: window.gran.to_proto() as i32,
            buckets,
            totals: Some(totals),
            watermark_time: self.watermark().await?,
        })
    }

    pub async fn content_analytics(
        &self,
        caller: &UserPrincipal,
        req: pb::GetContentAnalyticsRequest,
        now: DateTime<Utc>,
    ) -> Result<pb::ContentAnalytics, ApiError> {
        let pb::GetContentAnalyticsRequest {
            post_ids,
            time_range,
            granularity,
        } = req;
        let mut v = Violations::new();
        if post_ids.is_empty() {
            v.add("post_ids", "at least one post id is required");
        } else if post_ids.len() > MAX_POSTS {
            v.add("post_ids", format!("at most {MAX_POSTS} post ids"));
        }
        for (i, id) in post_ids.iter().enumerate() {
            if uuid::Uuid::try_parse(id).is_err() {
                v.add(format!("post_ids[{i}]"), "is not a valid post id");
            }
        }
        let window = window(time_range.as_ref(), granularity, v, now)?;
        let mut seen = HashSet::new();
        let ids: Vec<String> = post_ids
            .into_iter()
            .filter(|id| seen.insert(id.clone()))
            .collect();
        let authors = self.authors(&ids).await?;
        // Existence is not revealed: someone else's post is as absent as a missing one.
        for id in &ids {
            match authors.get(id) {
                Some(author) if caller.is_admin() || caller.user_id == *author => {}
                _ => return Err(post_not_found(id)),
            }
        }
        let subjects: Vec<String> = ids.iter().map(|id| s::post(id)).collect();
        let series = store::series(&self.pool, &subjects, &window).await?;
        let viewer_sets: Vec<String> = ids.iter().map(|id| s::post_viewers(id)).collect();
        let mut viewers = store::distinct_many(&self.pool, &viewer_sets, &window).await?;
        let mut posts = Vec::with_capacity(ids.len());
        for (id, subject) in ids.iter().zip(&subjects) {
            let (uniques, unique_total) = viewers
                .remove(&s::post_viewers(id))
                .unwrap_or_else(|| (vec![0; window.len()], 0));
            let mut totals = pb::PostMetrics::default();
            let buckets = buckets_of(&series, subject, &window)
                .iter()
                .zip(window.starts())
                .zip(uniques)
                .map(|((map, start), unique)| {
                    let metrics = post_metrics(map, unique);
                    sum_post(&mut totals, &metrics);
                    pb::PostMetricsBucket {
                        start_time: Some(timestamp(start)),
                        metrics: Some(metrics),
                    }
                })
                .collect();
            totals.unique_viewers = unique_total;
            posts.push(pb::PostAnalytics {
                post_id: id.clone(),
                buckets,
                totals: Some(totals),
            });
        }
        Ok(pb::ContentAnalytics {
            time_range: Some(window.time_range()),
            granularity: window.gran.to_proto() as i32,
            posts,
            watermark_time: self.watermark().await?,
        })
    }

    pub async fn creator_insights(
        &self,
        caller: &UserPrincipal,
        req: pb::GetCreatorInsightsRequest,
        now: DateTime<Utc>,
    ) -> Result<pb::CreatorInsights, ApiError> {
        let pb::GetCreatorInsightsRequest {
            trainer_id,
            time_range,
            granularity,
            top_posts_limit,
        } = req;
        let mut v = Violations::new();
        if trainer_id.is_empty() {
            v.add("trainer_id", "is required");
        }
        if !(0..=MAX_TOP_POSTS).contains(&top_posts_limit) {
            v.add(
                "top_posts_limit",
                format!("must be between 0 and {MAX_TOP_POSTS}"),
            );
        }
        let window = window(time_range.as_ref(), granularity, v, now)?;
        if caller.is_admin() {
            if caller.user_id != trainer_id
                && !store::known_creator(&self.pool, &trainer_id).await?
            {
                return Err(ApiError::not_found("trainer"));
            }
        } else if caller.user_id != trainer_id || !caller.has_role(Role::Trainer) {
            return Err(ApiError::permission_denied(
                "only your own creator insights are visible",
            ));
        }
        // As events spell the id: the caller's own, or an admin's request as given.
        let trainer = if caller.user_id == trainer_id {
            caller.subject()
        } else {
            trainer_id.as_str()
        };
        let subject = s::creator(trainer);
        let series = store::series(&self.pool, std::slice::from_ref(&subject), &window).await?;
        let (uniques, unique_total) =
            store::distinct(&self.pool, &s::profile_viewers(trainer), &window).await?;
        let mut totals = pb::CreatorMetrics::default();
        let buckets = buckets_of(&series, &subject, &window)
            .iter()
            .zip(window.starts())
            .zip(uniques)
            .map(|((map, start), unique)| {
                let metrics = pb::CreatorMetrics {
                    profile_views: get(map, Metric::ProfileViews),
                    unique_profile_viewers: unique,
                    new_followers: get(map, Metric::FollowersGained),
                    lost_followers: get(map, Metric::FollowersLost),
                    post_views: get(map, Metric::PostViews),
                    engagements: get(map, Metric::Engagements),
                    engagement_rate_bps: rate_bps(
                        get(map, Metric::Engagements),
                        get(map, Metric::PostViews),
                    ),
                    subscription_revenue: Vec::new(),
                    program_enrollments: get(map, Metric::ProgramEnrollments),
                    program_completions: get(map, Metric::ProgramCompletions),
                    challenge_joins: get(map, Metric::ChallengeJoins),
                    challenge_completions: get(map, Metric::ChallengeCompletions),
                    workout_sessions: get(map, Metric::WorkoutSessions),
                };
                totals.profile_views += metrics.profile_views;
                totals.program_enrollments += metrics.program_enrollments;
                totals.program_completions += metrics.program_completions;
                totals.challenge_joins += metrics.challenge_joins;
                totals.challenge_completions += metrics.challenge_completions;
                totals.workout_sessions += metrics.workout_sessions;
                totals.new_followers += metrics.new_followers;
                totals.lost_followers += metrics.lost_followers;
                totals.post_views += metrics.post_views;
                totals.engagements += metrics.engagements;
                pb::CreatorMetricsBucket {
                    start_time: Some(timestamp(start)),
                    metrics: Some(metrics),
                }
            })
            .collect();
        totals.unique_profile_viewers = unique_total;
        totals.engagement_rate_bps = rate_bps(totals.engagements, totals.post_views);
        let limit = if top_posts_limit == 0 {
            DEFAULT_TOP_POSTS
        } else {
            top_posts_limit
        } as usize;
        let top_posts = self.top_posts(trainer, &window, limit).await?;
        Ok(pb::CreatorInsights {
            trainer_id,
            time_range: Some(window.time_range()),
            granularity: window.gran.to_proto() as i32,
            buckets,
            totals: Some(totals),
            top_posts,
            // Payment events carry no creator: nothing is attributable yet.
            revenue_available: false,
            watermark_time: self.watermark().await?,
        })
    }

    /// The author's posts with the most engagements (then views) in `window`.
    async fn top_posts(
        &self,
        author: &str,
        window: &Window,
        limit: usize,
    ) -> Result<Vec<pb::TopPost>, ApiError> {
        let mut per_post: BTreeMap<String, PostRollup> = BTreeMap::new();
        for row in store::author_post_metrics(&self.pool, author, window).await? {
            per_post
                .entry(row.post_id)
                .or_insert_with(|| (row.created_at, HashMap::new()))
                .1
                .insert(row.metric, row.value);
        }
        let sets: Vec<String> = per_post.keys().map(|p| s::post_viewers(p)).collect();
        let uniques = store::distinct_totals(&self.pool, &sets, window).await?;
        let mut top: Vec<pb::TopPost> = per_post
            .into_iter()
            .map(|(post_id, (created, map))| {
                let unique = uniques
                    .get(&s::post_viewers(&post_id))
                    .copied()
                    .unwrap_or(0);
                pb::TopPost {
                    metrics: Some(post_metrics(&map, unique)),
                    create_time: created.map(timestamp),
                    post_id,
                }
            })
            .collect();
        let key = |p: &pb::TopPost| {
            p.metrics
                .as_ref()
                .map(|m| (m.engagements, m.views))
                .unwrap_or_default()
        };
        top.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.post_id.cmp(&b.post_id)));
        top.truncate(limit);
        Ok(top)
    }
}
