//! Value types of the payment domain: money in integer minor units with ISO 4217
//! currencies, plan fields, payment-method facts and the card-number detector, billing
//! cycles and the states of subscriptions and transactions. No tonic, no sqlx (the store
//! maps the enums to their text columns).

/// Declares an enum kept in a text column: `as_str` is the stored value, `parse` reads it
/// back (`None` for anything else) and `ALL` lists the variants.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Reads a stored value back.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

mod methods;
mod money;
mod plans;
mod subscriptions;
mod transactions;

pub use methods::{MethodKind, Provider, ProviderToken, ProviderTokenError, looks_like_pan};
pub use money::{Currency, MAX_MINOR, Money, div_round, proration};
pub use plans::{Features, PlanName, PlanTier, plan_description, trial_days};
pub use subscriptions::{Cycle, INCOMPLETE_WINDOW_HOURS, RETRY_SCHEDULE_DAYS, SubscriptionStatus};
pub use transactions::{BillingReason, RefundReason, TxKind, TxStatus};
