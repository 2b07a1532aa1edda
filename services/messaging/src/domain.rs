//! Request values with their rules, each a newtype that only `parse` makes: message text
//! and media, group fields, search queries. No tonic, no sqlx.

pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_QUERY_CHARS: usize = 100;
pub const PREVIEW_CHARS: usize = 200;

/// Declares a validated string: `as_str`, `into_string`, `is_empty`; made only by `parse`.
macro_rules! validated_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }
    };
}

validated_string! {
    /// Message text: at most 4000 code points (may be empty when media is attached).
    MessageText
}

validated_string! {
    /// An optional https URL (media, group image) of at most 2048 characters; empty = none.
    HttpsUrl
}

validated_string! {
    /// A group name: 1-100 characters, trimmed.
    GroupName
}

validated_string! {
    /// A group description: at most 500 characters, trimmed.
    Description
}

impl MessageText {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().count() > MAX_TEXT_CHARS {
            return Err(format!("must be at most {MAX_TEXT_CHARS} characters"));
        }
        Ok(Self(value.to_string()))
    }
}

impl HttpsUrl {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Ok(Self(String::new()));
        }
        if value.chars().count() > MAX_URL_CHARS {
            return Err(format!("must be at most {MAX_URL_CHARS} characters"));
        }
        match url::Url::parse(value) {
            Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => {
                Ok(Self(value.to_string()))
            }
            _ => Err("must be an https URL".into()),
        }
    }
}

impl GroupName {
    pub fn parse(value: &str) -> Result<Self, String> {
        let trimmed = value.trim();
        let n = trimmed.chars().count();
        if n == 0 || n > MAX_NAME_CHARS {
            return Err(format!("must be 1-{MAX_NAME_CHARS} characters"));
        }
        Ok(Self(trimmed.to_string()))
    }
}

impl Description {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err(format!(
                "must be at most {MAX_DESCRIPTION_CHARS} characters"
            ));
        }
        Ok(Self(value.trim().to_string()))
    }
}

/// A search query as its words, lower-cased: 1-100 characters with at least one word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery(Vec<String>);

impl SearchQuery {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.chars().count() > MAX_QUERY_CHARS {
            return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
        }
        let words: Vec<String> = value.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Err("must contain a word".into());
        }
        Ok(Self(words))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// The words joined by single spaces: what a page token's filter hash covers.
    pub fn normalized(&self) -> String {
        self.0.join(" ")
    }
}

/// The first 200 code points of a text.
pub fn preview(text: &str) -> String {
    text.chars().take(PREVIEW_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(
            MessageText::parse(&"é".repeat(4000)).is_ok(),
            "code points, not bytes"
        );
        assert!(MessageText::parse(&"a".repeat(4001)).is_err());
        assert!(HttpsUrl::parse("http://example.com/x.png").is_err());
        assert!(HttpsUrl::parse("https://cdn.example.com/x.png").is_ok());
        assert!(HttpsUrl::parse("https://").is_err());
        assert!(HttpsUrl::parse("").is_ok_and(|u| u.is_empty()));
        assert!(GroupName::parse("  ").is_err());
        assert!(GroupName::parse(&"n".repeat(101)).is_err());
        assert_eq!(
            GroupName::parse("  Leg day ").map(GroupName::into_string),
            Ok("Leg day".to_string())
        );
        assert_eq!(
            Description::parse(" hi ").map(Description::into_string),
            Ok("hi".to_string())
        );
        assert!(Description::parse(&"d".repeat(501)).is_err());
        assert_eq!(
            SearchQuery::parse(" Leg  DAY ").map(|q| q.words().to_vec()),
            Ok(vec!["leg".to_string(), "day".to_string()])
        );
        assert!(SearchQuery::parse("   ").is_err());
        assert_eq!(preview(&"x".repeat(300)).len(), 200);
    }
}
