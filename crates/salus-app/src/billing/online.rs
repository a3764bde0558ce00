//! Online payments: the payment provider tells Salus a payment was captured by calling a
//! webhook. The call is believed only with a valid signature — HMAC-SHA256 over the raw
//! body with the shared secret, hex in the `X-Signature` header, as the common Indian and
//! international providers send it — and settles an invoice once per provider event
//! (`receipts_provider_event_key`): a retried or replayed event answers what it made.
//! Events arrive out of order and of kinds Salus does not act on (a failure after a
//! capture, an authorisation before it): those are acknowledged and change nothing, so the
//! provider stops retrying. The amount and currency must fit the invoice; a capture that
//! does not (more than the balance, another currency, a cancelled bill) is refused and the
//! refusal audited, for finance to refund through the provider.

use chrono::Utc;
use hmac::{Hmac, Mac};
use salus_core::billing::{InvoiceStatus, PaymentMethod, Receipt, ReceiptKind, receipt_entry};
use salus_db::ResultExt;
use salus_db::billing as q;
use salus_db::entity::receipt;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::RECEIPT_SERIES;
use crate::audit::{self, Event, Outcome};
use crate::{AppError, Ctx};

/// The event Salus acts on; every other kind is acknowledged and ignored.
pub const CAPTURED: &str = "payment.captured";

/// A provider's event as it is posted.
#[derive(Debug, Deserialize)]
struct ProviderEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<PaymentData>,
}

#[derive(Debug, Deserialize)]
struct PaymentData {
    payment_id: String,
    invoice_id: Uuid,
    amount_minor: i64,
    currency: String,
}

/// What a webhook call came to.
#[derive(Debug, Clone)]
pub enum WebhookOutcome {
    /// The invoice was paid by this receipt.
    Settled(Receipt),
    /// The event was settled before (a retry or a replay): its receipt.
    Replayed(Receipt),
    /// An event Salus does not act on, acknowledged: why.
    Ignored(String),
}

impl crate::Billing<'_> {
    /// Whether `signature` (hex, optionally `sha256=`-prefixed) is the HMAC-SHA256 of
    /// `body` under the webhook secret. No secret configured: the webhook is off.
    fn verify(&self, body: &[u8], signature: &str) -> Result<(), AppError> {
        if signature.trim().is_empty() {
            return Err(AppError::Unauthenticated);
        }
        let Some(secret) = &self.billing.webhook_secret else {
            return Err(AppError::NotFound("payment webhook (no [billing] webhook_secret is configured)"));
        };
        let given = signature.trim();
        let given = given.strip_prefix("sha256=").unwrap_or(given);
        let Ok(given) = hex::decode(given) else { return Err(AppError::Unauthenticated) };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
            return Err(AppError::Unauthenticated);
        };
        mac.update(body);
        // Compared in constant time.
        mac.verify_slice(&given).map_err(|_| AppError::Unauthenticated)
    }

    /// Settles an invoice from a provider's signed event (see the module's comment).
    pub async fn settle_online(
        &self,
        ctx: &Ctx,
        body: &[u8],
        signature: &str,
    ) -> Result<WebhookOutcome, AppError> {
        self.verify(body, signature)?;
        let event: ProviderEvent = serde_json::from_slice(body)
            .map_err(|e| AppError::field("body", format!("not a payment event: {e}")))?;
        if event.id.trim().is_empty() || event.id.len() > 100 {
            return Err(AppError::field("id", "an event id of 1 to 100 characters"));
        }
        let conn = self.db.reader();
        if let Some(done) = q::receipt_by_provider_event(conn, &event.id).await? {
            return Ok(WebhookOutcome::Replayed(done.into()));
        }
        if event.kind != CAPTURED {
            return Ok(WebhookOutcome::Ignored(format!("{} changes nothing here", event.kind)));
        }
        let Some(data) = event.data else {
            return Err(AppError::field("data", "a captured payment names its invoice, amount and currency"));
        };
        let inv = q::find_invoice(conn, data.invoice_id).await?.ok_or(AppError::NotFound("invoice"))?;
        let refusal = if !data.currency.eq_ignore_ascii_case(&inv.currency) {
            Some(AppError::field("currency", format!("{} is billed in {}", inv.number, inv.currency)))
        } else if data.amount_minor <= 0 {
            Some(AppError::field("amount_minor", "a payment of more than nothing"))
        } else if inv.status == InvoiceStatus::Cancelled {
            Some(AppError::Conflict(format!(
                "{} is cancelled; refund the payment through the provider",
                inv.number
            )))
        } else if data.amount_minor > inv.total_minor - inv.paid_minor {
            Some(AppError::field(
                "amount_minor",
                format!(
                    "{} has {} left to pay; refund the difference through the provider",
                    inv.number,
                    self.money(inv.total_minor - inv.paid_minor)
                ),
            ))
        } else {
            None
        };
        if let Some(e) = refusal {
            // The money was taken by the provider: the refusal is kept for finance.
            let txn = self.db.begin_write().await?;
            let event = Event::new("billing.online.refused", "invoice", Some(inv.id.to_string()))
                .patient(inv.patient_id)
                .outcome(Outcome::Denied)
                .detail(
                    json!({ "event": event.id, "payment": data.payment_id, "amount_minor": data.amount_minor,
                    "currency": data.currency, "why": e.to_string() }),
                );
            audit::record(&txn, ctx, event).await?;
            txn.commit().await?;
            return Err(e);
        }
        let now = Utc::now();
        let id = Uuid::now_v7();
        let txn = self.db.begin_write().await?;
        if !q::pay_invoice(&txn, inv.id, data.amount_minor).await? {
            return Err(AppError::Conflict(format!("{} was paid or cancelled meanwhile", inv.number)));
        }
        let number = self.number(&txn, RECEIPT_SERIES, now).await?;
        let row = receipt::Model {
            invoice_id: Some(inv.id),
            reference: Some(data.payment_id.chars().take(100).collect()),
            provider_event_id: Some(event.id.clone()),
            // No person took it: the provider did (the nil id names no user).
            ..super::money_row(
                id,
                number.clone(),
                inv.patient_id,
                ReceiptKind::Payment,
                PaymentMethod::Online,
                data.amount_minor,
                Uuid::nil(),
                now,
            )
        };
        let inserted = q::insert_receipt(&txn, row).await.on_unique(
            "receipts_provider_event_key",
            "receipts.provider_event_id",
            || AppError::Conflict(String::new()),
        );
        match inserted {
            Ok(()) => {}
            // The same event delivered twice at once: the other delivery settled it.
            Err(AppError::Conflict(_)) => {
                drop(txn);
                return match q::receipt_by_provider_event(self.db.reader(), &event.id).await? {
                    Some(done) => Ok(WebhookOutcome::Replayed(done.into())),
                    None => Err(AppError::Conflict("the event is being settled; retry".into())),
                };
            }
            Err(e) => return Err(e),
        }
        let entry = receipt_entry(ReceiptKind::Payment, PaymentMethod::Online, data.amount_minor, false);
        self.post_entry(&txn, entry, ("receipt", id), Some(inv.patient_id), now).await?;
        let audit_event = Event::new("billing.online.settled", "receipt", Some(id.to_string()))
            .patient(inv.patient_id)
            .detail(json!({ "number": number, "invoice": inv.number, "event": event.id, "amount_minor": data.amount_minor }));
        audit::record(&txn, ctx, audit_event).await?;
        txn.commit().await?;
        let done = q::find_receipt(self.db.reader(), id).await?.ok_or(AppError::NotFound("receipt"))?;
        Ok(WebhookOutcome::Settled(done.into()))
    }
}
