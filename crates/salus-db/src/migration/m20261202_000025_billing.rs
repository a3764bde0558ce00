//! Billing: invoices from unbilled charges, receipts, refunds that wait for approval,
//! cashier shifts, gapless document numbers and the double-entry journal.
//!
//! What the database decides, so no request can get it wrong however it races:
//! - a charge is on one invoice at a time (`charges.invoice_id`, set by a conditional
//!   update from `unbilled` that must touch every charge asked for);
//! - document numbers are gapless per series and financial year (`number_series`: the
//!   counter is bumped in the posting's transaction, so a rolled-back posting gives its
//!   number back, and PostgreSQL's row lock makes concurrent postings take turns);
//! - a payment never exceeds the balance (`invoices.paid_minor ≤ total_minor`, checked
//!   and bumped in one conditional update), a deposit is never applied or refunded twice
//!   (`receipts.unapplied_minor ≥ 0`), a cancelled invoice's money is given back at most
//!   once (`invoices.refunded_minor ≤ paid_minor`);
//! - one open shift per cashier (a partial unique index);
//! - a provider's webhook event settles once (`receipts_provider_event_key`).

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000025_billing"
    }
}

fn uuid(name: &str) -> ColumnDef {
    col(name).uuid().not_null().to_owned()
}

fn uuid_null(name: &str) -> ColumnDef {
    col(name).uuid().null().to_owned()
}

fn money(name: &str) -> ColumnDef {
    col(name).big_integer().not_null().default(0).to_owned()
}

fn money_null(name: &str) -> ColumnDef {
    col(name).big_integer().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("number_series")
                    .col(text("series", 10))
                    .col(text("fiscal_year", 10))
                    .col(col("last_number").big_integer().not_null())
                    .primary_key(Index::create().col(Alias::new("series")).col(Alias::new("fiscal_year")))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("invoices")
                    .col(id())
                    .col(text("number", 40))
                    .col(text("fiscal_year", 10))
                    .col(uuid("patient_id"))
                    .col(uuid_null("admission_id"))
                    .col(text("kind", 12))
                    .col(text("status", 12))
                    .col(text("currency", 3))
                    .col(money("gross_minor"))
                    .col(money("discount_minor"))
                    .col(money("tax_minor"))
                    .col(money("total_minor"))
                    .col(money("paid_minor"))
                    .col(money("refunded_minor"))
                    .col(text_null("discount_reason", 300))
                    .col(uuid_null("approved_by"))
                    .col(uuid("posted_by"))
                    .col(at("posted_at"))
                    .col(text_null("credit_note_number", 40))
                    .col(text_null("cancel_reason", 300))
                    .col(uuid_null("cancelled_by"))
                    .col(at_null("cancelled_at"))
                    .col(col("print_count").integer().not_null().default(0))
                    .check(Expr::cust("paid_minor >= 0 AND paid_minor <= total_minor"))
                    .check(Expr::cust("refunded_minor >= 0 AND refunded_minor <= paid_minor"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("invoices_number_key", "invoices", &["number"]).unique().to_owned())
            .await?;
        manager
            .create_index(
                index("invoices_credit_note_key", "invoices", &["credit_note_number"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("invoices_patient_idx", "invoices", &["patient_id", "posted_at"])).await?;
        manager.create_index(index("invoices_posted_idx", "invoices", &["posted_at"])).await?;

        manager
            .create_table(
                table("invoice_lines")
                    .col(id())
                    .col(uuid("invoice_id"))
                    .col(col("position").integer().not_null())
                    .col(uuid("charge_id"))
                    .col(text("service_code", 40))
                    .col(text("description", 200))
                    .col(text("department", 40))
                    .col(col("quantity").integer().not_null())
                    .col(money("unit_price_minor"))
                    .col(col("tax_rate_bp").integer().not_null())
                    .col(money("gross_minor"))
                    .col(money("discount_minor"))
                    .col(money("tax_minor"))
                    .col(money("net_minor"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("invoice_lines_invoice_idx", "invoice_lines", &["invoice_id", "position"]))
            .await?;
        manager.create_index(index("invoice_lines_charge_idx", "invoice_lines", &["charge_id"])).await?;

        // A charge knows the invoice it is on (none while unbilled).
        manager
            .alter_table(
                Table::alter().table(Alias::new("charges")).add_column(uuid_null("invoice_id")).to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("cashier_shifts")
                    .col(id())
                    .col(uuid("cashier_id"))
                    .col(money("float_minor"))
                    .col(at("opened_at"))
                    .col(at_null("closed_at"))
                    .col(money_null("expected_minor"))
                    .col(money_null("counted_minor"))
                    .col(money_null("variance_minor"))
                    .col(text_null("close_note", 300))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("cashier_shifts_cashier_idx", "cashier_shifts", &["cashier_id"])).await?;

        manager
            .create_table(
                table("receipts")
                    .col(id())
                    .col(text("number", 40))
                    .col(uuid("patient_id"))
                    .col(uuid_null("invoice_id"))
                    .col(text("kind", 10))
                    .col(text("method", 16))
                    .col(money("amount_minor"))
                    // A deposit's amount not yet applied or refunded.
                    .col(money("unapplied_minor"))
                    // For a payment from a deposit, or a refund of one: that deposit.
                    .col(uuid_null("deposit_id"))
                    .col(text_null("reference", 100))
                    .col(text_null("provider_event_id", 100))
                    .col(uuid_null("shift_id"))
                    .col(col("print_count").integer().not_null().default(0))
                    .col(uuid("received_by"))
                    .col(at("received_at"))
                    .check(Expr::cust("amount_minor > 0"))
                    .check(Expr::cust("unapplied_minor >= 0 AND unapplied_minor <= amount_minor"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("receipts_number_key", "receipts", &["number"]).unique().to_owned())
            .await?;
        manager
            .create_index(
                index("receipts_provider_event_key", "receipts", &["provider_event_id"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(index("receipts_patient_idx", "receipts", &["patient_id", "received_at"]))
            .await?;
        manager.create_index(index("receipts_invoice_idx", "receipts", &["invoice_id"])).await?;
        manager.create_index(index("receipts_received_idx", "receipts", &["received_at"])).await?;
        manager.create_index(index("receipts_shift_idx", "receipts", &["shift_id"])).await?;

        manager
            .create_table(
                table("refund_requests")
                    .col(id())
                    .col(uuid("patient_id"))
                    .col(uuid_null("deposit_id"))
                    .col(uuid_null("invoice_id"))
                    .col(money("amount_minor"))
                    .col(text("method", 16))
                    .col(text("reason", 300))
                    .col(text("status", 10))
                    .col(uuid("requested_by"))
                    .col(at("requested_at"))
                    .col(uuid_null("decided_by"))
                    .col(at_null("decided_at"))
                    .col(text_null("decision_note", 300))
                    .col(uuid_null("receipt_id"))
                    .check(Expr::cust("amount_minor > 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("refund_requests_status_idx", "refund_requests", &["status", "requested_at"]))
            .await?;
        manager
            .create_index(index("refund_requests_patient_idx", "refund_requests", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("journal_lines")
                    .col(id())
                    .col(uuid("entry_id"))
                    .col(text("source_type", 20))
                    .col(uuid("source_id"))
                    .col(uuid_null("patient_id"))
                    .col(text("account", 24))
                    .col(text_null("department", 40))
                    .col(col("amount_minor").big_integer().not_null())
                    .col(at("posted_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("journal_lines_posted_idx", "journal_lines", &["posted_at"])).await?;
        manager.create_index(index("journal_lines_entry_idx", "journal_lines", &["entry_id"])).await?;
        manager
            .create_index(index("journal_lines_patient_idx", "journal_lines", &["patient_id", "account"]))
            .await?;

        let conn = manager.get_connection();
        for sql in [
            "CREATE UNIQUE INDEX cashier_shifts_open_key ON cashier_shifts (cashier_id) WHERE closed_at IS NULL",
            "CREATE INDEX charges_invoice_idx ON charges (invoice_id) WHERE invoice_id IS NOT NULL",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "journal_lines",
            "refund_requests",
            "receipts",
            "cashier_shifts",
            "invoice_lines",
            "invoices",
            "number_series",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        manager.get_connection().execute_unprepared("DROP INDEX IF EXISTS charges_invoice_idx").await?;
        manager
            .alter_table(
                Table::alter().table(Alias::new("charges")).drop_column(Alias::new("invoice_id")).to_owned(),
            )
            .await
    }
}
