//! Plan fields: the purchasable tiers and the rules of names, descriptions, features and
//! trials. Each check returns the message for its field.

text_enum! {
    /// A tier a plan can sell (FREE is what a user has without one).
    pub enum PlanTier {
        Premium = "PREMIUM",
        Pro = "PRO",
    }
}

impl PlanTier {
    /// The order of tiers: moving to a higher rank is an upgrade (stored as
    /// `plans.tier_rank` so lists sort by it).
    pub const fn rank(self) -> i32 {
        match self {
            PlanTier::Premium => 1,
            PlanTier::Pro => 2,
        }
    }
}

/// A plan's name: 1-80 characters, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanName(String);

impl PlanName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let n = raw.trim().chars().count();
        if n == 0 || raw.chars().count() > 80 {
            Err("must be 1-80 characters".into())
        } else {
            Ok(Self(raw.trim().to_string()))
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

pub fn plan_description(d: &str) -> Result<(), String> {
    if d.chars().count() > 1000 {
        Err("must be at most 1000 characters".into())
    } else {
        Ok(())
    }
}

/// A plan's feature flags: at most 50 distinct names of 1-64 characters of `[a-z0-9_.]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Features(Vec<String>);

impl Features {
    pub fn parse(features: &[String]) -> Result<Self, String> {
        if features.len() > 50 {
            return Err("at most 50 features".into());
        }
        let mut out: Vec<String> = Vec::new();
        for f in features {
            let ok = (1..=64).contains(&f.len())
                && f.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.'
                });
            if !ok {
                return Err(format!(
                    "feature {f:?} must be 1-64 characters of [a-z0-9_.]"
                ));
            }
            if out.contains(f) {
                return Err(format!("feature {f:?} is listed twice"));
            }
            out.push(f.clone());
        }
        Ok(Self(out))
    }

    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

pub fn trial_days(days: i32) -> Result<(), String> {
    if (0..=90).contains(&days) {
        Ok(())
    } else {
        Err("must be 0-90".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_fields() {
        assert_eq!(
            PlanName::parse("  Premium ").map(PlanName::into_inner),
            Ok("Premium".into())
        );
        assert!(PlanName::parse("   ").is_err());
        assert!(Features::parse(&["a".into(), "a".into()]).is_err());
        assert!(Features::parse(&["Not Valid".into()]).is_err());
        assert!(PlanTier::Pro.rank() > PlanTier::Premium.rank());
        assert_eq!(PlanTier::parse("PRO"), Some(PlanTier::Pro));
        assert_eq!(PlanTier::parse("FREE"), None);
    }
}
