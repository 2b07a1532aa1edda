//! Charges: the one way money moves towards us. A charge is recorded as an intent, sent
//! to the provider under an idempotency key derived from what identifies it, and its
//! outcome recorded, all in the caller's transaction; a decline is the kit error
//! FAILED_PRECONDITION `PAYMENT_DECLINED`.

use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use tribe_kit::ApiError;
use uuid::Uuid;

use super::{Faults, PaymentService, provider_error};
use crate::domain::{BillingReason, Provider, TxKind, TxStatus};
use crate::provider::ChargeOutcome;
use crate::store::{self, MethodRow, SubRow, TxRow};

/// The `ErrorInfo.reason` of a declined charge; its metadata names the FAILED
/// transaction (`transaction_id`) and the provider's `failure_code`.
pub const PAYMENT_DECLINED: &str = "PAYMENT_DECLINED";
const DECLINED_PREFIX: &str = "payment declined: ";

/// The provider idempotency key of one logical charge: derived from what identifies it
/// (caller and request_id, or subscription, due time and attempt), so a retry after a
/// crash asks the provider for the same charge and gets the first result back.
pub fn charge_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    format!(
        "tt_{}",
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// A declined charge as the caller sees it.
pub(super) fn declined(transaction_id: &str, failure_code: &str, message: &str) -> ApiError {
    ApiError::failed_precondition(PAYMENT_DECLINED, format!("{DECLINED_PREFIX}{message}"))
        .with_info("transaction_id", transaction_id)
        .with_info("failure_code", failure_code)
}

/// The decline of a FAILED charge.
pub(super) fn decline_of(t: &TxRow) -> ApiError {
    declined(&t.id.to_string(), &t.failure_code, &t.failure_message)
}

/// What a decline error carries, read back (to store it for replay).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Decline<'a> {
    pub transaction_id: &'a str,
    pub failure_code: &'a str,
    /// The provider's message, without the "payment declined: " the caller reads.
    pub message: &'a str,
}

impl<'a> Decline<'a> {
    pub fn of(err: &'a ApiError) -> Option<Self> {
        let ApiError::Rejected {
            reason: PAYMENT_DECLINED,
            message,
            metadata,
            ..
        } = err
        else {
            return None;
        };
        let info = |key: &str| {
            metadata
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        Some(Self {
            transaction_id: info("transaction_id"),
            failure_code: info("failure_code"),
            message: message.strip_prefix(DECLINED_PREFIX).unwrap_or(message),
        })
    }
}

/// One charge to make.
pub(super) struct Charge<'a> {
    pub user: Uuid,
    pub subscription: Option<Uuid>,
    /// `None` records a charge declined `no_payment_method` without asking the provider
    /// (a renewal of a user who removed every method).
    pub method: Option<&'a MethodRow>,
    pub amount: i64,
    pub currency: &'a str,
    pub reason: BillingReason,
    pub key: String,
    /// The customer is not present (renewals, upgrades): the provider must not wait for
    /// their authentication.
    pub off_session: bool,
}

impl PaymentService {
    /// Records the intent (a PENDING transaction), asks the provider with the charge's
    /// idempotency key, and records the outcome, all in the caller's transaction. An
    /// already recorded charge with the same key is returned as is.
    pub(super) async fn charge(
        &self,
        conn: &mut PgConnection,
        c: Charge<'_>,
    ) -> Result<TxRow, ApiError> {
        if let Some(existing) = store::transactions::by_provider_key(conn, &c.key).await? {
            return Ok(existing);
        }
        let now = self.clock.now();
        let mut row = TxRow {
            id: tribe_kit::ids::new_id(),
            user_id: c.user,
            subscription_id: c.subscription,
            r#type: TxKind::Charge,
            status: TxStatus::Pending,
            currency: c.currency.into(),
            amount_minor: c.amount,
            refunded_minor: 0,
            billing_reason: c.reason,
            refunded_transaction_id: None,
            refund_reason: String::new(),
            payment_method_id: c.method.map(|m| m.id),
            failure_code: String::new(),
            failure_message: String::new(),
            provider: c.method.map_or(Provider::Test, |m| m.provider),
            provider_ref: String::new(),
            provider_key: c.key.clone(),
            created_at: now,
            updated_at: now,
        };
        store::transactions::insert(conn, &row).await?;
        match c.method {
            None => apply_outcome(
                &mut row,
                ChargeOutcome::Declined {
                    code: "no_payment_method".into(),
                    message: "No payment method is on file.".into(),
                },
            ),
            Some(method) => {
                let result = self
                    .provider
                    .charge(
                        &c.key,
                        &method.provider_ref,
                        c.amount,
                        c.currency,
                        c.off_session,
                    )
                    .await
                    .map_err(provider_error)?;
                if Faults::take(&self.faults.crash_after_charge) {
                    return Err(ApiError::internal(anyhow::anyhow!(
                        "simulated crash between provider charge and commit"
                    )));
                }
                row.provider_ref = result.reference;
                apply_outcome(&mut row, result.outcome);
            }
        }
        store::transactions::save_outcome(conn, &row).await?;
        Ok(row)
    }

    /// The method a subscription's off-session charges use: its own, else the user's
    /// default.
    pub(super) async fn billing_method(
        &self,
        conn: &mut PgConnection,
        sub: &SubRow,
    ) -> Result<Option<MethodRow>, ApiError> {
        Ok(match sub.payment_method_id {
            Some(m) => store::methods::get(conn, m).await?,
            None => store::methods::default_for(conn, sub.user_id).await?,
        })
    }

    /// Records a charge's final outcome.
    pub(super) async fn finish_charge(
        &self,
        tx: &mut PgConnection,
        t: &mut TxRow,
        outcome: ChargeOutcome,
    ) -> Result<(), ApiError> {
        if outcome == ChargeOutcome::Pending {
            return Ok(());
        }
        apply_outcome(t, outcome);
        t.updated_at = self.clock.now();
        Ok(store::transactions::save_outcome(tx, t).await?)
    }

    /// Cancels the pending first charge of an INCOMPLETE subscription at the provider and
    /// records it as failed with `code`.
    pub(super) async fn abandon_pending(
        &self,
        tx: &mut PgConnection,
        subscription: Uuid,
        code: &str,
        message: &str,
    ) -> Result<Option<TxRow>, ApiError> {
        let Some(mut t) = store::transactions::pending_charge(tx, subscription).await? else {
            return Ok(None);
        };
        if !t.provider_ref.is_empty() {
            self.provider
                .cancel(&t.provider_ref)
                .await
                .map_err(provider_error)?;
        }
        self.finish_charge(
            tx,
            &mut t,
            ChargeOutcome::Declined {
                code: code.into(),
                message: message.into(),
            },
        )
        .await?;
        Ok(Some(t))
    }
}

/// Puts a provider's answer on a charge row; a pending answer leaves it PENDING.
fn apply_outcome(t: &mut TxRow, outcome: ChargeOutcome) {
    match outcome {
        ChargeOutcome::Succeeded => t.status = TxStatus::Succeeded,
        ChargeOutcome::Declined { code, message } => {
            t.status = TxStatus::Failed;
            t.failure_code = code;
            t.failure_message = message;
        }
        ChargeOutcome::Pending => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decline_is_failed_precondition_with_the_transaction_in_its_metadata() {
        let err = declined("tx-1", "card_declined", "The card was declined.");
        let status = err.into_status(crate::policy::ERROR_DOMAIN);
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert_eq!(status.message(), "payment declined: The card was declined.");
        let err = declined("tx-1", "card_declined", "The card was declined.");
        assert_eq!(
            Decline::of(&err),
            Some(Decline {
                transaction_id: "tx-1",
                failure_code: "card_declined",
                message: "The card was declined."
            })
        );
        assert_eq!(
            Decline::of(&ApiError::failed_precondition("PLAN_INACTIVE", "no")),
            None
        );
    }

    #[test]
    fn charge_keys_separate_their_parts() {
        assert_eq!(
            charge_key(&["create", "u", "r"]),
            charge_key(&["create", "u", "r"])
        );
        assert_ne!(charge_key(&["ab", "c"]), charge_key(&["a", "bc"]));
    }
}
