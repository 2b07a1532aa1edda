//! Profiles, preferences, social links, specialties, achievements and search.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{SummaryRow, USER_COLUMNS, UserRow};

/// Writes the editable profile columns of `row`.
pub async fn save_profile(conn: &mut PgConnection, row: &UserRow) -> sqlx::Result<UserRow> {
    sqlx::query_as(&format!(
        "UPDATE users SET handle = $2, display_name = $3, bio = $4, avatar_url = $5, cover_url = $6, location = $7,
            updated_at = now()
         WHERE id = $1 RETURNING {USER_COLUMNS}"
    ))
    .bind(row.id)
    .bind(&row.handle)
    .bind(&row.display_name)
    .bind(&row.bio)
    .bind(&row.avatar_url)
    .bind(&row.cover_url)
    .bind(&row.location)
    .fetch_one(conn)
    .await
}

pub async fn lock_user(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<UserRow>> {
    sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = $1 FOR NO KEY UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PreferencesRow {
    pub user_id: Uuid,
    pub language: String,
    pub theme: String,
    pub unit_system: String,
    pub time_zone: String,
    pub push_enabled: bool,
    pub email_enabled: bool,
    pub notify_new_follower: bool,
    pub notify_likes: bool,
    pub notify_comments: bool,
    pub notify_mentions: bool,
    pub notify_messages: bool,
    pub notify_workout_reminders: bool,
    pub notify_marketing: bool,
    pub updated_at: DateTime<Utc>,
}

const PREF_COLUMNS: &str = "user_id, language, theme, unit_system, time_zone, push_enabled, email_enabled, \
     notify_new_follower, notify_likes, notify_comments, notify_mentions, notify_messages, notify_workout_reminders, \
     notify_marketing, updated_at";

/// Preferred time zones of the users in `ids` that exist.
pub async fn time_zones(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("SELECT user_id, time_zone FROM preferences WHERE user_id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

pub async fn preferences(
    conn: &mut PgConnection,
    user: Uuid,
    lock: bool,
) -> sqlx::Result<Option<PreferencesRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {PREF_COLUMNS} FROM preferences WHERE user_id = $1{suffix}"
    ))
    .bind(user)
    .fetch_optional(conn)
    .await
}

pub async fn save_preferences(
    conn: &mut PgConnection,
    p: &PreferencesRow,
) -> sqlx::Result<PreferencesRow> {
    sqlx::query_as(&format!(
        "UPDATE preferences SET language = $2, theme = $3, unit_system = $4, time_zone = $5, push_enabled = $6,
            email_enabled = $7, notify_new_follower = $8, notify_likes = $9, notify_comments = $10, notify_mentions = $11,
            notify_messages = $12, notify_workout_reminders = $13, notify_marketing = $14, updated_at = now()
         WHERE user_id = $1 RETURNING {PREF_COLUMNS}"
    ))
    .bind(p.user_id)
    .bind(&p.language)
    .bind(&p.theme)
    .bind(&p.unit_system)
    .bind(&p.time_zone)
    .bind(p.push_enabled)
    .bind(p.email_enabled)
    .bind(p.notify_new_follower)
    .bind(p.notify_likes)
    .bind(p.notify_comments)
    .bind(p.notify_mentions)
    .bind(p.notify_messages)
    .bind(p.notify_workout_reminders)
    .bind(p.notify_marketing)
    .fetch_one(conn)
    .await
}

/// (platform, url) pairs of a user, by platform name.
pub async fn social_links(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT platform, url FROM social_links WHERE user_id = $1 ORDER BY platform")
        .bind(user)
        .fetch_all(conn)
        .await
}

pub async fn set_social_link(
    conn: &mut PgConnection,
    user: Uuid,
    platform: &str,
    url: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO social_links (user_id, platform, url) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, platform) DO UPDATE SET url = EXCLUDED.url",
    )
    .bind(user)
    .bind(platform)
    .bind(url)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_social_link(
    conn: &mut PgConnection,
    user: Uuid,
    platform: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM social_links WHERE user_id = $1 AND platform = $2")
        .bind(user)
        .bind(platform)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpecialtyRow {
    pub id: String,
    pub display_name: String,
    pub description: String,
}

pub async fn list_specialties(
    conn: &mut PgConnection,
    after: Option<&str>,
    limit: i64,
) -> sqlx::Result<Vec<SpecialtyRow>> {
    sqlx::query_as("SELECT id, display_name, description FROM specialties WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(conn)
        .await
}

pub async fn known_specialties(
    conn: &mut PgConnection,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT id FROM specialties WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(conn)
        .await
}

pub async fn user_specialties(
    conn: &mut PgConnection,
    user: Uuid,
) -> sqlx::Result<Vec<SpecialtyRow>> {
    sqlx::query_as(
        "SELECT s.id, s.display_name, s.description FROM user_specialties us JOIN specialties s ON s.id = us.specialty_id
         WHERE us.user_id = $1 ORDER BY s.id",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

pub async fn replace_specialties(
    conn: &mut PgConnection,
    user: Uuid,
    ids: &[String],
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM user_specialties WHERE user_id = $1")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO user_specialties (user_id, specialty_id) SELECT $1, unnest($2::text[])",
    )
    .bind(user)
    .bind(ids)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
pub struct AchievementRow {
    pub id: Uuid,
    pub code: String,
    pub title: String,
    pub description: String,
    pub icon_url: String,
    pub earned_at: DateTime<Utc>,
}

pub async fn achievements(
    conn: &mut PgConnection,
    user: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<AchievementRow>> {
    sqlx::query_as(
        "SELECT ua.id, a.code, a.title, a.description, a.icon_url, ua.earned_at
         FROM user_achievements ua JOIN achievements a ON a.code = ua.code
         WHERE ua.user_id = $1 AND ($2::timestamptz IS NULL OR (ua.earned_at, ua.id) < ($2, $3))
         ORDER BY ua.earned_at DESC, ua.id DESC LIMIT $4",
    )
    .bind(user)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// A search hit with its rank.
#[derive(Debug, sqlx::FromRow)]
pub struct SearchRow {
    #[sqlx(flatten)]
    pub user: SummaryRow,
    pub score: f64,
}

pub struct SearchFilter<'a> {
    pub viewer: Uuid,
    pub query: &'a str,
    pub trainers_only: bool,
    pub specialty_ids: &'a [String],
}

/// Full-text plus trigram search, ordered by (score, id) descending; without a query,
/// ranks by follower count.
pub async fn search(
    conn: &mut PgConnection,
    f: &SearchFilter<'_>,
    after: Option<(f64, Uuid)>,
    limit: i64,
) -> sqlx::Result<Vec<SearchRow>> {
    sqlx::query_as(
        "SELECT * FROM (
            SELECT u.id, u.handle, u.display_name, u.avatar_url, u.is_trainer, u.is_verified,
              (CASE WHEN $2 = '' THEN ln(u.follower_count + 1)::float8
               ELSE (ts_rank(u.search, plainto_tsquery('simple', $2))
                     + similarity(lower(u.handle), lower($2))
                     + similarity(lower(u.display_name), lower($2))
                     + CASE WHEN lower(u.handle) LIKE $8 THEN 1 ELSE 0 END)::float8
               END) AS score
            FROM users u
            WHERE ($2 = '' OR u.search @@ plainto_tsquery('simple', $2)
                   OR lower(u.handle) % lower($2) OR lower(u.display_name) % lower($2)
                   OR lower(u.handle) LIKE $8)
              AND (NOT $3 OR u.is_trainer)
              AND (cardinality($4::text[]) = 0
                   OR EXISTS (SELECT 1 FROM user_specialties us WHERE us.user_id = u.id AND us.specialty_id = ANY($4)))
              AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $1)
         ) s
         WHERE ($5::float8 IS NULL OR (s.score, s.id) < ($5, $6))
         ORDER BY s.score DESC, s.id DESC LIMIT $7",
    )
    .bind(f.viewer)
    .bind(f.query)
    .bind(f.trainers_only)
    .bind(f.specialty_ids)
    .bind(after.map(|a| a.0))
    .bind(after.map(|a| a.1))
    .bind(limit)
    .bind(prefix_pattern(f.query))
    .fetch_all(conn)
    .await
}

/// `query%` for LIKE, with LIKE's wildcards in the query escaped.
fn prefix_pattern(query: &str) -> String {
    let mut pattern = String::with_capacity(query.len() + 1);
    for c in query.to_lowercase().chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
