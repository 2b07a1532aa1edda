//! Content rules without I/O: post text, media, hashtags and mentions, the stored enums
//! (visibility, kind, moderation and report states), and who a reader is (premium access,
//! admin).

use std::sync::LazyLock;

use regex::Regex;
use tribe_kit::Violations;
use tribe_kit::auth::UserPrincipal;
use tribe_proto::content::v1 as pb;
use uuid::Uuid;

pub const MAX_TEXT_CHARS: usize = 5000;
pub const PREVIEW_CHARS: usize = 280;
pub const MAX_MEDIA: usize = 10;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_TAGS: usize = 30;
pub const MAX_MENTIONS: usize = 20;
pub const MAX_COMMENT_CHARS: usize = 2000;
pub const MAX_VIDEO_SECONDS: i64 = 600;

/// A proto enum kept as its number: `smallint` columns through `sqlx`, and numbers in the
/// cached JSON (`PostBody`), exactly as before the enum existed. UNSPECIFIED (0) has no
/// variant, so a value of one of these types is always a real state.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $n:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type, serde::Serialize, serde::Deserialize)]
        #[repr(i16)]
        #[serde(into = "i16", try_from = "i16")]
        pub enum $name {
            $($(#[$vdoc])* $variant = $n,)+
        }

        impl $name {
            /// From a proto value; `None` for UNSPECIFIED and unknown numbers.
            pub fn from_proto(raw: i32) -> Option<Self> {
                match raw {
                    $($n => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The proto (and stored) number.
            pub const fn number(self) -> i32 {
                self as i32
            }
        }

        impl From<$name> for i16 {
            fn from(value: $name) -> i16 {
                value as i16
            }
        }

        impl TryFrom<i16> for $name {
            type Error = String;

            fn try_from(raw: i16) -> Result<Self, String> {
                Self::from_proto(i32::from(raw)).ok_or_else(|| format!("unknown {} {raw}", stringify!($name)))
            }
        }
    };
}

stored_enum! {
    /// Who may read a post (`posts.visibility`, `PostVisibility`).
    Visibility {
        Public = 1,
        /// Followers of the author only.
        Followers = 2,
        /// The author only.
        Private = 3,
    }
}

stored_enum! {
    /// What kind of post it is (`posts.type`, `PostType`); only trainers publish the
    /// premium and trainer kinds.
    PostKind {
        Regular = 1,
        /// Full content for PREMIUM/PRO readers, a locked preview for the others.
        Premium = 2,
        Trainer = 3,
    }
}

stored_enum! {
    /// What moderation made of a post (`posts.moderation`, `ModerationState`).
    ModerationState {
        Visible = 1,
        /// Out of feeds and lists for everyone but the author and admins; restorable.
        Hidden = 2,
        /// Like hidden, and no longer editable or engageable.
        Removed = 3,
    }
}

stored_enum! {
    /// Where a report stands (`post_reports.status`, `ReportStatus`).
    ReportStatus {
        Open = 1,
        /// Closed by a HIDE or REMOVE.
        Actioned = 2,
        /// Closed by a RESTORE.
        Dismissed = 3,
    }
}

/// Who reads: decides visibility, premium access and whether moderation fields show.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    /// Nil for an internal caller without a viewer.
    pub id: Uuid,
    pub admin: bool,
    pub premium: bool,
    /// Internal callers and admins see moderation fields.
    pub privileged: bool,
}

impl Viewer {
    pub fn of(user: &UserPrincipal) -> Self {
        let admin = user.is_admin();
        Self {
            id: user.id(),
            admin,
            premium: admin || user.tier.is_paid(),
            privileged: admin,
        }
    }

    /// An internal caller without a viewer: everything, in full.
    pub fn system() -> Self {
        Self {
            id: Uuid::nil(),
            admin: true,
            premium: true,
            privileged: true,
        }
    }

    /// Whether this viewer may see the full content of a PREMIUM post by `author`.
    pub fn premium_for(&self, author: Uuid) -> bool {
        self.premium || self.id == author
    }
}

static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9_#&])#([A-Za-z0-9_]+)").unwrap_or_else(|_| unreachable!())
});
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9_@.])@([A-Za-z0-9_]+)").unwrap_or_else(|_| unreachable!())
});

/// Hashtags of `text`: lower case, 1-50 chars of [a-z0-9_] with a letter, distinct, in order
/// of first appearance, at most 30.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cap in TAG.captures_iter(text) {
        let tag = cap[1].to_ascii_lowercase();
        if tag.len() <= 50 && tag.chars().any(|c| c.is_ascii_alphabetic()) && !out.contains(&tag) {
            out.push(tag);
            if out.len() == MAX_TAGS {
                break;
            }
        }
    }
    out
}

/// `@handle` mentions of `text`: lower case, distinct, at most 20.
pub fn parse_mentions(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cap in MENTION.captures_iter(text) {
        let handle = cap[1].to_ascii_lowercase();
        if (3..=30).contains(&handle.len()) && !out.contains(&handle) {
            out.push(handle);
            if out.len() == MAX_MENTIONS {
                break;
            }
        }
    }
    out
}

/// A hashtag as stored and searched: lower case, 1-50 of [a-z0-9_] with a letter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// A search tag from a request: "#LegDay" or "legday" -> "legday".
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let tag = raw.strip_prefix('#').unwrap_or(raw).to_ascii_lowercase();
        let ok = (1..=50).contains(&tag.len())
            && tag
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && tag.chars().any(|c| c.is_ascii_alphabetic());
        if ok {
            Ok(Self(tag))
        } else {
            Err("is not a valid hashtag")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// One validated media item, as stored (JSON in `posts.media`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MediaItem {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: i32,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    #[serde(default)]
    pub thumbnail_url: String,
}

/// Validates post content: text, visibility and media.
#[derive(Debug, Clone)]
pub struct Rules {
    pub media_hosts: Vec<String>,
}

impl Rules {
    pub fn check_text(&self, v: &mut Violations, field: &str, text: &str) {
        if text.chars().count() > MAX_TEXT_CHARS {
            v.add(
                field,
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            );
        }
    }

    /// The requested visibility; UNSPECIFIED is PUBLIC, an unknown value a violation.
    pub fn visibility(&self, v: &mut Violations, field: &str, raw: i32) -> Option<Visibility> {
        if raw == pb::PostVisibility::Unspecified as i32 {
            return Some(Visibility::Public);
        }
        let visibility = Visibility::from_proto(raw);
        if visibility.is_none() {
            v.add(field, "unknown visibility");
        }
        visibility
    }

    fn check_url(&self, raw: &str) -> Result<(), String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters"));
        }
        let url = url::Url::parse(raw).map_err(|_| "is not a valid URL".to_string())?;
        if url.scheme() != "https" {
            return Err("must be an https URL".into());
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let allowed = self
            .media_hosts
            .iter()
            .any(|h| host == *h || host.ends_with(&format!(".{h}")));
        if !allowed || !url.username().is_empty() || url.password().is_some() {
            return Err("must be on an allowed media host".into());
        }
        Ok(())
    }

    /// Validates the media list, assigning fresh ids.
    pub fn media(&self, v: &mut Violations, field: &str, items: &[pb::Media]) -> Vec<MediaItem> {
        if items.len() > MAX_MEDIA {
            v.add(field, format!("at most {MAX_MEDIA} items"));
            return Vec::new();
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, m) in items.iter().enumerate() {
            let pb::Media {
                media_id: _,
                r#type,
                url,
                position: _,
                width,
                height,
                duration,
                thumbnail_url,
            } = m;
            let at = |name: &str| format!("{field}[{i}].{name}");
            let kind = match pb::MediaType::try_from(*r#type) {
                Ok(pb::MediaType::Image) | Ok(pb::MediaType::Video) => *r#type,
                _ => {
                    v.add(at("type"), "must be IMAGE or VIDEO");
                    0
                }
            };
            if url.is_empty() {
                v.add(at("url"), "is required");
            } else if let Err(e) = self.check_url(url) {
                v.add(at("url"), e);
            }
            if !thumbnail_url.is_empty()
                && let Err(e) = self.check_url(thumbnail_url)
            {
                v.add(at("thumbnail_url"), e);
            }
            for (name, dim) in [("width", width), ("height", height)] {
                if let Some(d) = dim
                    && !(1..=10_000).contains(d)
                {
                    v.add(at(name), "must be 1-10000 pixels");
                }
            }
            let duration_ms = match duration {
                None => None,
                Some(_) if kind != pb::MediaType::Video as i32 => {
                    v.add(at("duration"), "only videos have a duration");
                    None
                }
                Some(d)
                    if d.seconds < 0
                        || d.nanos < 0
                        || d.seconds > MAX_VIDEO_SECONDS
                        || (d.seconds == MAX_VIDEO_SECONDS && d.nanos > 0) =>
                {
                    v.add(at("duration"), "must be 0-10 minutes");
                    None
                }
                Some(d) => Some(d.seconds * 1000 + i64::from(d.nanos) / 1_000_000),
            };
            out.push(MediaItem {
                id: Uuid::now_v7().to_string(),
                kind,
                url: url.clone(),
                width: *width,
                height: *height,
                duration_ms,
                thumbnail_url: thumbnail_url.clone(),
            });
        }
        out
    }
}

/// Comment text: 1-2000 characters, not only whitespace.
pub fn check_comment_text(v: &mut Violations, text: &str) {
    if text.trim().is_empty() {
        v.add("text", "must not be empty");
    } else if text.chars().count() > MAX_COMMENT_CHARS {
        v.add(
            "text",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        );
    }
}

/// The first `n` characters of `text`.
pub fn preview(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_mentions() {
        assert_eq!(
            parse_tags("#LegDay and #legday, #2024 #a_1 x#no #yes"),
            vec!["legday", "a_1", "yes"]
        );
        assert_eq!(
            parse_mentions("hi @Coach_Ana and @coach_ana, mail a@b.com @xy"),
            vec!["coach_ana"]
        );
        assert_eq!(
            Tag::parse("#LegDay").map(Tag::into_string),
            Ok("legday".to_string())
        );
        assert!(Tag::parse("bad-tag").is_err());
    }

    #[test]
    fn stored_enums_keep_the_proto_numbers() {
        assert_eq!(
            Visibility::from_proto(pb::PostVisibility::Followers as i32),
            Some(Visibility::Followers)
        );
        assert_eq!(PostKind::from_proto(0), None, "UNSPECIFIED is no kind");
        assert_eq!(
            ModerationState::try_from(3_i16),
            Ok(ModerationState::Removed)
        );
        assert!(ReportStatus::try_from(9_i16).is_err());
        assert_eq!(
            i16::from(ReportStatus::Dismissed),
            pb::ReportStatus::Dismissed as i16
        );
        // The cached post bodies hold the numbers, as they did before these enums.
        assert_eq!(
            serde_json::to_string(&PostKind::Premium).ok().as_deref(),
            Some("2")
        );
        assert_eq!(
            serde_json::from_str::<Visibility>("3").ok(),
            Some(Visibility::Private)
        );
    }

    #[test]
    fn media_rules() {
        let rules = Rules {
            media_hosts: vec!["trainertribe.dev".into()],
        };
        let mut v = Violations::new();
        let ok = pb::Media {
            r#type: pb::MediaType::Image as i32,
            url: "https://cdn.trainertribe.dev/a.jpg".into(),
            ..Default::default()
        };
        assert_eq!(rules.media(&mut v, "post.media", &[ok]).len(), 1);
        assert!(v.is_empty());
        let bad = pb::Media {
            r#type: 0,
            url: "http://evil.example/a.jpg".into(),
            width: Some(0),
            ..Default::default()
        };
        rules.media(&mut v, "post.media", &[bad]);
        assert!(v.finish().is_err());
    }
}
