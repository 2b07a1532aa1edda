//! AIP-134 update masks: validates the paths a client names against what is writable.

use std::collections::BTreeSet;

use crate::error::{ApiError, Violations};

/// The validated set of paths of one update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateMask {
    paths: BTreeSet<String>,
}

impl UpdateMask {
    /// Accepts exactly the `writable` paths (a path `a` also admits `a.b` sub-paths when
    /// `a.*` is listed). Empty, unknown or read-only paths are INVALID_ARGUMENT on
    /// `update_mask`, listing each offending path.
    pub fn parse(
        mask: Option<&prost_types::FieldMask>,
        writable: &[&str],
    ) -> Result<Self, ApiError> {
        let paths: Vec<String> = mask.map(|m| m.paths.clone()).unwrap_or_default();
        if paths.is_empty() {
            return Err(ApiError::invalid_field(
                "update_mask",
                "must name at least one field",
            ));
        }
        let mut violations = Violations::new();
        let mut accepted = BTreeSet::new();
        for path in paths {
            let ok = writable.iter().any(|w| {
                *w == path
                    || w.strip_suffix(".*").is_some_and(|parent| {
                        path == parent
                            || path.strip_prefix(parent).is_some_and(|rest| {
                                rest.starts_with('.') && !rest[1..].contains('.')
                            })
                    })
            });
            if ok {
                accepted.insert(path);
            } else {
                violations.add(
                    "update_mask",
                    format!("path '{path}' is unknown or not writable"),
                );
            }
        }
        violations.finish()?;
        Ok(Self { paths: accepted })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// True if `path` or any sub-path of it (`path.x`) is in the mask.
    pub fn touches(&self, path: &str) -> bool {
        self.paths
            .iter()
            .any(|p| p == path || p.strip_prefix(path).is_some_and(|r| r.starts_with('.')))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> prost_types::FieldMask {
        prost_types::FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn validates_paths() {
        let writable = ["bio", "notifications.*"];
        let m = UpdateMask::parse(Some(&mask(&["bio", "notifications.likes"])), &writable).unwrap();
        assert!(m.contains("bio") && m.touches("notifications") && !m.contains("email"));
        assert!(UpdateMask::parse(Some(&mask(&["notifications"])), &writable).is_ok());
        assert!(UpdateMask::parse(Some(&mask(&["email"])), &writable).is_err());
        assert!(UpdateMask::parse(Some(&mask(&["notifications.a.b"])), &writable).is_err());
        assert!(UpdateMask::parse(Some(&mask(&[])), &writable).is_err());
        assert!(UpdateMask::parse(None, &writable).is_err());
    }
}
