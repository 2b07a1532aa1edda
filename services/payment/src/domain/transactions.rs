//! Transactions: charges and refunds, their states, why a charge was made, and the
//! reason an admin gives for a refund.

text_enum! {
    /// The stored `transactions.type`.
    pub enum TxKind {
        Charge = "CHARGE",
        Refund = "REFUND",
    }
}

text_enum! {
    pub enum TxStatus {
        /// Recorded before the provider answered, or waiting for the customer.
        Pending = "PENDING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Refunded = "REFUNDED",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
    }
}

impl TxStatus {
    /// A charge in this state may be refunded (what is left of it).
    pub fn refundable(self) -> bool {
        matches!(self, TxStatus::Succeeded | TxStatus::PartiallyRefunded)
    }
}

text_enum! {
    /// Why a charge was made; refunds have none (stored as '').
    pub enum BillingReason {
        Unspecified = "",
        SubscriptionCreate = "SUBSCRIPTION_CREATE",
        SubscriptionCycle = "SUBSCRIPTION_CYCLE",
        SubscriptionUpdate = "SUBSCRIPTION_UPDATE",
    }
}

/// Why an admin refunds: 1-500 characters, stored trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundReason(String);

impl RefundReason {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim().chars().count() == 0 || raw.chars().count() > 500 {
            return Err("must be 1-500 characters");
        }
        Ok(Self(raw.trim().to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values() {
        assert_eq!(BillingReason::parse(""), Some(BillingReason::Unspecified));
        assert_eq!(
            TxStatus::parse("PARTIALLY_REFUNDED"),
            Some(TxStatus::PartiallyRefunded)
        );
        assert_eq!(TxKind::Charge.as_str(), "CHARGE");
        assert!(RefundReason::parse("  ").is_err());
        assert_eq!(
            RefundReason::parse(" goodwill ").map(RefundReason::into_inner),
            Ok("goodwill".into())
        );
    }
}
