//! PostgreSQL access of the payment service, a module per table. Functions take a
//! connection so use-cases choose their transaction boundaries; no business rules here
//! beyond what SQL enforces.

pub mod methods;
pub mod plans;
pub mod subscriptions;
pub mod transactions;

pub use methods::MethodRow;
pub use plans::PlanRow;
pub use subscriptions::SubRow;
pub use transactions::TxRow;

use sqlx::PgConnection;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef, Postgres};

use crate::domain::{
    BillingReason, Cycle, MethodKind, PlanTier, Provider, SubscriptionStatus, TxKind, TxStatus,
};

/// Serialises the transactions holding the same `key` until they end (per-user
/// subscription creation, per-user payment-method changes, the default catalogue).
pub async fn lock(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a domain enum in its text column as `as_str`, and reads it back with `parse`
/// (a value the enum does not know is a decode error).
macro_rules! text_column {
    ($($ty:ty),+) => {$(
        impl sqlx::Type<Postgres> for $ty {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $ty {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }
        }

        impl sqlx::Encode<'_, Postgres> for $ty {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $ty {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let raw = <&str as sqlx::Decode<Postgres>>::decode(value)?;
                <$ty>::parse(raw).ok_or_else(|| format!("unknown {} {raw:?}", stringify!($ty)).into())
            }
        }
    )+};
}

text_column!(
    BillingReason,
    Cycle,
    MethodKind,
    PlanTier,
    Provider,
    SubscriptionStatus,
    TxKind,
    TxStatus
);
