//! Validated value types of the user domain. Each `parse` returns a message fit for a
//! field violation; no tonic or sqlx here.

use std::sync::LazyLock;

use regex::Regex;
use tribe_proto::user::v1::SocialPlatform;

/// A handle, normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle(String);

const RESERVED_HANDLES: &[&str] = &[
    "admin",
    "administrator",
    "root",
    "support",
    "help",
    "trainertribe",
    "tribe",
    "api",
    "settings",
    "me",
    "system",
    "moderator",
    "security",
    "staff",
    "official",
];

impl Handle {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let handle = raw.trim().trim_start_matches('@').to_ascii_lowercase();
        let len = handle.chars().count();
        if !(3..=30).contains(&len) {
            return Err("must be 3-30 characters".into());
        }
        if !handle.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("must start with a letter".into());
        }
        if !handle
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err("may contain only letters, digits and underscores".into());
        }
        if RESERVED_HANDLES.contains(&handle.as_str()) {
            return Err("is reserved".into());
        }
        Ok(Self(handle))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address (trimmed; uniqueness is case-insensitive in the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.len() > 254 || !EMAIL.is_match(email) || email.contains("..") {
            return Err("is not a valid email address".into());
        }
        Ok(Self(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for lookups and throttling keys.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A new password, checked for length and obvious weakness. Never logged.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "trainertribe",
    "fitness123",
    "workout123",
    "abcdefghij",
    "0987654321",
    "1111111111",
    "aaaaaaaaaa",
    "passw0rd12",
    "football12",
    "monkey1234",
    "dragon1234",
];

impl NewPassword {
    pub fn parse(raw: &str, email: &str, handle: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < 10 {
            return Err("must be at least 10 characters".into());
        }
        if len > 128 {
            return Err("must be at most 128 characters".into());
        }
        let lower = raw.to_lowercase();
        if COMMON_PASSWORDS.contains(&lower.as_str()) {
            return Err("is too common".into());
        }
        if (!email.is_empty() && lower == email.to_lowercase())
            || (!handle.is_empty() && lower == handle.to_lowercase())
        {
            return Err("must differ from the email and handle".into());
        }
        if raw.chars().all(|c| c == raw.chars().next().unwrap_or(' ')) {
            return Err("is too weak".into());
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn bounded_text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let text = raw.trim();
    let len = text.chars().count();
    if len < min {
        return Err(if min == 1 {
            "is required".into()
        } else {
            format!("must be at least {min} characters")
        });
    }
    if len > max {
        return Err(format!("must be at most {max} characters"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err("must not contain control characters".into());
    }
    Ok(text.to_string())
}

pub fn display_name(raw: &str) -> Result<String, String> {
    let name = bounded_text(raw, 1, 60)?;
    if name.contains('\n') {
        return Err("must be a single line".into());
    }
    Ok(name)
}

pub fn bio(raw: &str) -> Result<String, String> {
    bounded_text(raw, 0, 500)
}

pub fn location(raw: &str) -> Result<String, String> {
    bounded_text(raw, 0, 100)
}

/// An https URL of at most 2048 characters; empty is allowed where `optional`.
pub fn https_url(raw: &str, optional: bool) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return if optional {
            Ok(String::new())
        } else {
            Err("is required".into())
        };
    }
    if raw.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|_| "is not a valid URL".to_string())?;
    if url.scheme() != "https" {
        return Err("must be an https URL".into());
    }
    if url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err("must have a host and no credentials".into());
    }
    Ok(url.to_string())
}

/// Validates a social link URL against its platform's hosts.
pub fn social_url(platform: SocialPlatform, raw: &str) -> Result<String, String> {
    let url = https_url(raw, false)?;
    let hosts: &[&str] = match platform {
        SocialPlatform::Instagram => &["instagram.com"],
        SocialPlatform::Youtube => &["youtube.com", "youtu.be"],
        SocialPlatform::Tiktok => &["tiktok.com"],
        SocialPlatform::X => &["x.com", "twitter.com"],
        SocialPlatform::Facebook => &["facebook.com", "fb.com"],
        SocialPlatform::Strava => &["strava.com"],
        SocialPlatform::Website => return Ok(url),
        SocialPlatform::Unspecified => return Err("platform is required".into()),
    };
    let host = url::Url::parse(&url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase))
        .unwrap_or_default();
    if hosts
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        Ok(url)
    } else {
        Err(format!("must be a link on {}", hosts.join(" or ")))
    }
}

static LANGUAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

pub fn language(raw: &str) -> Result<String, String> {
    if LANGUAGE.is_match(raw) {
        Ok(raw.to_string())
    } else {
        Err("must be a BCP-47 language tag such as en or pt-BR".into())
    }
}

pub fn time_zone(raw: &str) -> Result<String, String> {
    raw.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| "must be an IANA time zone such as Europe/Paris".into())
}

/// Free-text search query.
pub fn search_query(raw: &str) -> Result<String, String> {
    let query = raw.trim();
    if query.chars().count() > 100 {
        return Err("must be at most 100 characters".into());
    }
    Ok(query.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        assert_eq!(Handle::parse("@Ana_Lifts").unwrap().as_str(), "ana_lifts");
        for bad in ["ab", "1abc", "has space", "ünï", "admin", &"a".repeat(31)] {
            assert!(Handle::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(Email::parse("ana@example.com").is_ok());
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@x",
            "a b@x.com",
            "ana@@x.com",
            "a..b@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(NewPassword::parse("correct horse battery", "a@x.com", "ana").is_ok());
        assert!(NewPassword::parse("short", "", "").is_err());
        assert!(NewPassword::parse("Password123", "", "").is_err());
        assert!(NewPassword::parse("zzzzzzzzzzzz", "", "").is_err());
        assert!(NewPassword::parse("ana_lifts_123", "", "ana_lifts_123").is_err());
    }

    #[test]
    fn urls() {
        assert!(https_url("http://x.com/a", false).is_err());
        assert!(https_url("https://user:pw@x.com", false).is_err());
        assert_eq!(https_url("", true).unwrap(), "");
        assert!(social_url(SocialPlatform::Instagram, "https://www.instagram.com/ana").is_ok());
        assert!(social_url(SocialPlatform::Instagram, "https://evil.com/instagram.com").is_err());
        assert!(social_url(SocialPlatform::Instagram, "https://notinstagram.com/a").is_err());
        assert!(time_zone("Europe/Paris").is_ok() && time_zone("Mars/Olympus").is_err());
        assert!(language("pt-BR").is_ok() && language("english!").is_err());
    }
}
