//! What the rollups count: the metrics, and the subjects and distinct sets they are kept
//! for. The names are the keys stored in `rollup_hourly` and `distinct_hourly`.

/// A counter of the hourly rollups. Platform revenue is kept per currency under
/// [`revenue_key`] instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Metric {
    WorkoutsCompleted,
    WorkoutSeconds,
    PostsCreated,
    LikesGiven,
    LikesReceived,
    CommentsReceived,
    FollowersGained,
    FollowersLost,
    MessagesSent,
    Views,
    Likes,
    Comments,
    Shares,
    Saves,
    ProfileViews,
    PostViews,
    Engagements,
    NewUsers,
    CommentsCreated,
    ProgramEnrollments,
    ProgramCompletions,
    ChallengeJoins,
    ChallengeCompletions,
    WorkoutSessions,
}

impl Metric {
    /// The stored name ("messages_sent").
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WorkoutsCompleted => "workouts_completed",
            Self::WorkoutSeconds => "workout_seconds",
            Self::PostsCreated => "posts_created",
            Self::LikesGiven => "likes_given",
            Self::LikesReceived => "likes_received",
            Self::CommentsReceived => "comments_received",
            Self::FollowersGained => "followers_gained",
            Self::FollowersLost => "followers_lost",
            Self::MessagesSent => "messages_sent",
            Self::Views => "views",
            Self::Likes => "likes",
            Self::Comments => "comments",
            Self::Shares => "shares",
            Self::Saves => "saves",
            Self::ProfileViews => "profile_views",
            Self::PostViews => "post_views",
            Self::Engagements => "engagements",
            Self::NewUsers => "new_users",
            Self::CommentsCreated => "comments_created",
            Self::ProgramEnrollments => "program_enrollments",
            Self::ProgramCompletions => "program_completions",
            Self::ChallengeJoins => "challenge_joins",
            Self::ChallengeCompletions => "challenge_completions",
            Self::WorkoutSessions => "workout_sessions",
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const REVENUE_PREFIX: &str = "revenue:";

/// The platform revenue counter of one ISO 4217 currency ("revenue:EUR"): minor units,
/// refunds negative.
pub fn revenue_key(currency_code: &str) -> String {
    format!("{REVENUE_PREFIX}{currency_code}")
}

/// The currency of a revenue counter, `None` for any other metric.
pub fn revenue_currency(key: &str) -> Option<&str> {
    key.strip_prefix(REVENUE_PREFIX)
}

/// Rollup subjects and distinct sets.
pub mod subject {
    pub const PLATFORM: &str = "platform";
    pub const ACTIVE_USERS: &str = "active_users";

    pub fn user(id: &str) -> String {
        format!("user:{id}")
    }

    pub fn post(id: &str) -> String {
        format!("post:{id}")
    }

    pub fn creator(id: &str) -> String {
        format!("creator:{id}")
    }

    /// The target of a profile's 30-minute view sessions.
    pub fn profile(id: &str) -> String {
        format!("profile:{id}")
    }

    pub fn post_viewers(id: &str) -> String {
        format!("post_viewers:{id}")
    }

    pub fn profile_viewers(id: &str) -> String {
        format!("profile_viewers:{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revenue_keys_round_trip() {
        assert_eq!(revenue_key("EUR"), "revenue:EUR");
        assert_eq!(revenue_currency(&revenue_key("EUR")), Some("EUR"));
        assert_eq!(revenue_currency(Metric::Views.as_str()), None);
    }
}
