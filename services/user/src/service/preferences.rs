//! Preferences: language, theme, units, time zone and notification settings of one's own
//! account.

use tribe_kit::auth::UserPrincipal;
use tribe_kit::mask::UpdateMask;
use tribe_kit::{ApiError, Violations};
use tribe_proto::user::v1 as pb;

use super::UserService;
use super::graph::{MAX_BATCH_IDS, parse_ids};
use super::profile::owner;
use crate::convert;
use crate::domain;
use crate::store::profile;

const PREFERENCE_PATHS: &[&str] = &[
    "language",
    "theme",
    "unit_system",
    "time_zone",
    "notifications.*",
];

impl UserService {
    /// Internal: the preferred time zones of many users (other services compute
    /// streaks and calendar days in them).
    pub async fn batch_get_time_zones(
        &self,
        req: pb::BatchGetTimeZonesRequest,
    ) -> Result<pb::BatchGetTimeZonesResponse, ApiError> {
        let wanted = parse_ids("user_ids", &req.user_ids, MAX_BATCH_IDS)?;
        let mut conn = self.pool.acquire().await?;
        let zones = profile::time_zones(&mut conn, &wanted).await?;
        Ok(pb::BatchGetTimeZonesResponse {
            time_zones: zones
                .into_iter()
                .map(|(id, zone)| (id.to_string(), zone))
                .collect(),
        })
    }

    pub async fn get_preferences(
        &self,
        caller: &UserPrincipal,
        req: pb::GetPreferencesRequest,
    ) -> Result<pb::GetPreferencesResponse, ApiError> {
        let target = owner(caller, &req.user_id, true)?;
        let mut conn = self.pool.acquire().await?;
        let row = profile::preferences(&mut conn, target, false)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        Ok(pb::GetPreferencesResponse {
            preferences: Some(convert::preferences(row)),
        })
    }

    pub async fn update_preferences(
        &self,
        caller: &UserPrincipal,
        req: pb::UpdatePreferencesRequest,
    ) -> Result<pb::UpdatePreferencesResponse, ApiError> {
        let prefs = req
            .preferences
            .ok_or_else(|| ApiError::invalid_field("preferences", "is required"))?;
        let mask = UpdateMask::parse(req.update_mask.as_ref(), PREFERENCE_PATHS)?;
        let target = owner(caller, &prefs.user_id, false)?;
        let mut v = Violations::new();
        let language = if mask.contains("language") {
            v.check("preferences.language", domain::language(&prefs.language))
        } else {
            None
        };
        let time_zone = if mask.contains("time_zone") {
            v.check("preferences.time_zone", domain::time_zone(&prefs.time_zone))
        } else {
            None
        };
        let theme = pb::Theme::try_from(prefs.theme);
        if mask.contains("theme") && !matches!(theme, Ok(t) if t != pb::Theme::Unspecified) {
            v.add(
                "preferences.theme",
                "must be THEME_LIGHT, THEME_DARK or THEME_SYSTEM",
            );
        }
        let unit = pb::UnitSystem::try_from(prefs.unit_system);
        if mask.contains("unit_system")
            && !matches!(unit, Ok(u) if u != pb::UnitSystem::Unspecified)
        {
            v.add(
                "preferences.unit_system",
                "must be UNIT_SYSTEM_METRIC or UNIT_SYSTEM_IMPERIAL",
            );
        }
        v.finish()?;

        let mut tx = self.pool.begin().await?;
        let mut row = profile::preferences(&mut tx, target, true)
            .await?
            .ok_or_else(|| ApiError::not_found("user"))?;
        if let Some(language) = language {
            row.language = language;
        }
        if let Some(tz) = time_zone {
            row.time_zone = tz;
        }
        if let (true, Ok(theme)) = (mask.contains("theme"), theme) {
            row.theme = convert::theme_name(theme).into();
        }
        if let (true, Ok(unit)) = (mask.contains("unit_system"), unit) {
            row.unit_system = convert::unit_name(unit).into();
        }
        let n = prefs.notifications.unwrap_or_default();
        let whole = mask.contains("notifications");
        let set = |path: &str, slot: &mut bool, value: bool| {
            if whole || mask.contains(&format!("notifications.{path}")) {
                *slot = value;
            }
        };
        set("push_enabled", &mut row.push_enabled, n.push_enabled);
        set("email_enabled", &mut row.email_enabled, n.email_enabled);
        set("new_follower", &mut row.notify_new_follower, n.new_follower);
        set("likes", &mut row.notify_likes, n.likes);
        set("comments", &mut row.notify_comments, n.comments);
        set("mentions", &mut row.notify_mentions, n.mentions);
        set("messages", &mut row.notify_messages, n.messages);
        set(
            "workout_reminders",
            &mut row.notify_workout_reminders,
            n.workout_reminders,
        );
        set("marketing", &mut row.notify_marketing, n.marketing);
        let saved = profile::save_preferences(&mut tx, &row).await?;
        tx.commit().await?;
        Ok(pb::UpdatePreferencesResponse {
            preferences: Some(convert::preferences(saved)),
        })
    }
}
