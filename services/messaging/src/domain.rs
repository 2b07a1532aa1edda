//! Request values with their rules: message text and media, group fields, search
//! queries. No tonic, no sqlx.

pub const MAX_TEXT_CHARS: usize = 4000;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 500;
pub const MAX_QUERY_CHARS: usize = 100;
pub const PREVIEW_CHARS: usize = 200;

/// Message text: at most 4000 code points (may be empty when media is attached).
pub fn text(value: &str) -> Result<String, String> {
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("must be at most {MAX_TEXT_CHARS} characters"));
    }
    Ok(value.to_string())
}

/// An optional https URL of at most 2048 characters ('' = none).
pub fn https_url(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    if value.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    match url::Url::parse(value) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => Ok(value.to_string()),
        _ => Err("must be an https URL".into()),
    }
}

/// A group name: 1-100 characters after trimming.
pub fn group_name(value: &str) -> Result<String, String> {
    let trimmed = value.trim();
    let n = trimmed.chars().count();
    if n == 0 || n > MAX_NAME_CHARS {
        return Err(format!("must be 1-{MAX_NAME_CHARS} characters"));
    }
    Ok(trimmed.to_string())
}

pub fn description(value: &str) -> Result<String, String> {
    if value.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(format!("must be at most {MAX_DESCRIPTION_CHARS} characters"));
    }
    Ok(value.trim().to_string())
}

/// The words of a search query, lower-cased: 1-100 characters with at least one word.
pub fn search_words(value: &str) -> Result<Vec<String>, String> {
    let n = value.chars().count();
    if n > MAX_QUERY_CHARS {
        return Err(format!("must be at most {MAX_QUERY_CHARS} characters"));
    }
    let words: Vec<String> = value.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err("must contain a word".into());
    }
    Ok(words)
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
        assert!(text(&"é".repeat(4000)).is_ok(), "code points, not bytes");
        assert!(text(&"a".repeat(4001)).is_err());
        assert!(https_url("http://example.com/x.png").is_err());
        assert!(https_url("https://cdn.example.com/x.png").is_ok());
        assert!(https_url("https://").is_err());
        assert_eq!(https_url("").unwrap_or_default(), "");
        assert!(group_name("  ").is_err());
        assert!(group_name(&"n".repeat(101)).is_err());
        assert_eq!(search_words(" Leg  DAY ").unwrap_or_default(), vec!["leg", "day"]);
        assert!(search_words("   ").is_err());
        assert_eq!(preview(&"x".repeat(300)).len(), 200);
    }
}
