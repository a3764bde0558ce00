//! What the desk prints: an invoice and a receipt (or refund voucher) on the hospital's
//! letterhead; the first print is the original, a reprint says DUPLICATE.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use salus_app::billing::InvoiceDetail;
use salus_core::billing::{InvoiceStatus, Receipt};

use super::{Amount, Cash, id_of};
use crate::AppState;
use crate::error::PageError;
use crate::views::{Local, PageCtx, SignedIn, render};

local!(InvoicePrint, ReceiptPrint);

// ---- Printing ----------------------------------------------------------------------------

/// The hospital's letterhead: its active facility.
async fn letterhead(state: &AppState) -> Result<Option<salus_app::organisation::Facility>, PageError> {
    let op = salus_app::Ctx::operator();
    Ok(state.app.organisation().facilities(&op).await?.into_iter().find(|f| f.active))
}

#[derive(Template)]
#[template(path = "billing_invoice_print.html")]
struct InvoicePrint {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    detail: InvoiceDetail,
    duplicate: bool,
    facility: Option<salus_app::organisation::Facility>,
}

impl InvoicePrint {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn rate(&self, bp: &i32) -> String {
        format!("{}%", f64::from(*bp) / 100.0)
    }
    fn cancelled(&self) -> bool {
        self.detail.invoice.status == InvoiceStatus::Cancelled
    }
}

pub(super) async fn print_invoice(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "invoice")?;
    let (detail, duplicate) = state.app.billing().print_invoice(&ctx, id).await?;
    let facility = letterhead(&state).await?;
    Ok(render(
        StatusCode::OK,
        &InvoicePrint {
            tz: state.app.time_zone,
            page,
            cash: Cash(state.app.currency),
            detail,
            duplicate,
            facility,
        },
    ))
}

#[derive(Template)]
#[template(path = "billing_receipt_print.html")]
struct ReceiptPrint {
    tz: chrono_tz::Tz,
    page: PageCtx,
    cash: Cash,
    receipt: Receipt,
    patient: salus_app::laboratory::LabPatient,
    invoice: Option<String>,
    duplicate: bool,
    facility: Option<salus_app::organisation::Facility>,
}

impl ReceiptPrint {
    fn money(&self, minor: impl Amount) -> String {
        self.cash.fmt(minor.minor())
    }
    fn title(&self) -> &'static str {
        match self.receipt.kind {
            salus_core::billing::ReceiptKind::Refund => "Refund voucher",
            salus_core::billing::ReceiptKind::Deposit => "Deposit receipt",
            salus_core::billing::ReceiptKind::Payment => "Receipt",
        }
    }
}

pub(super) async fn print_receipt(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = id_of(&raw, "receipt")?;
    let (receipt, patient, invoice, duplicate) = state.app.billing().print_receipt(&ctx, id).await?;
    let facility = letterhead(&state).await?;
    Ok(render(
        StatusCode::OK,
        &ReceiptPrint {
            tz: state.app.time_zone,
            page,
            cash: Cash(state.app.currency),
            receipt,
            patient,
            invoice,
            duplicate,
            facility,
        },
    ))
}
