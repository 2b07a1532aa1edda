//! Storage rows to wire messages.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use tribe_proto::r#type::v1::{SubscriptionTier, UserSummary};
use tribe_proto::user::v1 as pb;

use crate::store::SummaryRow;
use crate::store::UserRow;
use crate::store::profile::{PreferencesRow, SpecialtyRow};

pub fn timestamp(at: DateTime<Utc>) -> Option<Timestamp> {
    Some(Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    })
}

pub fn tier(tier: &str) -> SubscriptionTier {
    match tier {
        "premium" => SubscriptionTier::Premium,
        "pro" => SubscriptionTier::Pro,
        _ => SubscriptionTier::Free,
    }
}

pub fn role(role: &str) -> pb::Role {
    match role {
        "user" => pb::Role::User,
        "trainer" => pb::Role::Trainer,
        "support_agent" => pb::Role::SupportAgent,
        "admin" => pb::Role::Admin,
        _ => pb::Role::Unspecified,
    }
}

pub fn platform_name(platform: pb::SocialPlatform) -> &'static str {
    platform.as_str_name()
}

pub fn summary(row: SummaryRow) -> UserSummary {
    let SummaryRow {
        id,
        handle,
        display_name,
        avatar_url,
        is_trainer,
        is_verified,
    } = row;
    UserSummary {
        user_id: id.to_string(),
        handle,
        display_name,
        avatar_url,
        is_trainer,
        is_verified,
    }
}

pub fn specialty(row: SpecialtyRow) -> pb::Specialty {
    let SpecialtyRow {
        id,
        display_name,
        description,
    } = row;
    pb::Specialty {
        specialty_id: id,
        display_name,
        description,
    }
}

pub fn social_links(rows: Vec<(String, String)>) -> Vec<pb::SocialLink> {
    rows.into_iter()
        .filter_map(|(platform, url)| {
            pb::SocialPlatform::from_str_name(&platform).map(|p| pb::SocialLink {
                platform: p as i32,
                url,
            })
        })
        .collect()
}

/// The full profile; `email` only when `show_email` (owner or admin).
pub fn user(
    row: UserRow,
    specialties: Vec<SpecialtyRow>,
    links: Vec<(String, String)>,
    show_email: bool,
) -> pb::User {
    let UserRow {
        id,
        email,
        handle,
        display_name,
        bio,
        avatar_url,
        cover_url,
        location,
        is_trainer,
        is_verified,
        roles,
        tier: user_tier,
        follower_count,
        following_count,
        created_at,
        updated_at,
    } = row;
    pb::User {
        user_id: id.to_string(),
        handle,
        display_name,
        email: if show_email { email } else { String::new() },
        bio,
        avatar_url,
        cover_url,
        location,
        is_trainer,
        is_verified,
        roles: roles.iter().map(|r| role(r) as i32).collect(),
        tier: tier(&user_tier) as i32,
        specialties: specialties.into_iter().map(specialty).collect(),
        social_links: social_links(links),
        follower_count,
        following_count,
        create_time: timestamp(created_at),
        update_time: timestamp(updated_at),
    }
}

pub fn theme_name(theme: pb::Theme) -> &'static str {
    match theme {
        pb::Theme::Light => "light",
        pb::Theme::Dark => "dark",
        pb::Theme::System | pb::Theme::Unspecified => "system",
    }
}

pub fn unit_name(unit: pb::UnitSystem) -> &'static str {
    match unit {
        pb::UnitSystem::Imperial => "imperial",
        pb::UnitSystem::Metric | pb::UnitSystem::Unspecified => "metric",
    }
}

pub fn preferences(row: PreferencesRow) -> pb::Preferences {
    let PreferencesRow {
        user_id,
        language,
        theme,
        unit_system,
        time_zone,
        push_enabled,
        email_enabled,
        notify_new_follower,
        notify_likes,
        notify_comments,
        notify_mentions,
        notify_messages,
        notify_workout_reminders,
        notify_marketing,
        updated_at,
    } = row;
    pb::Preferences {
        user_id: user_id.to_string(),
        language,
        theme: match theme.as_str() {
            "light" => pb::Theme::Light,
            "dark" => pb::Theme::Dark,
            _ => pb::Theme::System,
        } as i32,
        unit_system: if unit_system == "imperial" {
            pb::UnitSystem::Imperial
        } else {
            pb::UnitSystem::Metric
        } as i32,
        time_zone,
        notifications: Some(pb::NotificationSettings {
            push_enabled,
            email_enabled,
            new_follower: notify_new_follower,
            likes: notify_likes,
            comments: notify_comments,
            mentions: notify_mentions,
            messages: notify_messages,
            workout_reminders: notify_workout_reminders,
            marketing: notify_marketing,
        }),
        update_time: timestamp(updated_at),
    }
}
