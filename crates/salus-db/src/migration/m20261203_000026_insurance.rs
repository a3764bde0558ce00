//! Insurance — payers, their plans, patients' policies, pre-authorisations and claims —
//! and the billing exemptions the leak check reads.
//!
//! What the database decides:
//! - an invoice has at most one live claim (a partial unique index over the claims not
//!   denied or closed), so two clerks claiming the same bill make one claim;
//! - a claim's shares add up to what was claimed, and what was approved never exceeds it
//!   (checks);
//! - a billable event is exempted once (`billing_exemptions_source_key`), and a member
//!   number is one policy of its plan.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000026_insurance"
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

/// The billable events' times, by which the leak check reads them.
const LEAK_INDEXES: [(&str, &str, &str); 4] = [
    ("encounters_ended_idx", "encounters", "ended_at"),
    ("lab_orders_updated_idx", "lab_orders", "updated_at"),
    ("imaging_orders_performed_idx", "imaging_orders", "performed_at"),
    ("nursing_tasks_done_idx", "nursing_tasks", "done_at"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("billing_exemptions")
                    .col(id())
                    .col(text("source_type", 20))
                    .col(uuid("source_id"))
                    .col(uuid("patient_id"))
                    .col(text("reason", 300))
                    .col(uuid("exempted_by"))
                    .col(at("exempted_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("billing_exemptions_source_key", "billing_exemptions", &["source_type", "source_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("billing_exemptions_patient_idx", "billing_exemptions", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("payers")
                    .col(id())
                    .col(text("code", 32))
                    .col(text("name", 200))
                    .col(text("kind", 12))
                    // The third-party administrator that handles this insurer's claims.
                    .col(uuid_null("administrator_id"))
                    .col(text_null("contact", 200))
                    .col(col("active").boolean().not_null().default(true))
                    .col(at("created_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("payers_code_key", "payers", &["code"]).unique().to_owned()).await?;

        manager
            .create_table(
                table("insurance_plans")
                    .col(id())
                    .col(uuid("payer_id"))
                    .col(text("code", 32))
                    .col(text("name", 200))
                    // The service categories covered, comma-separated.
                    .col(text("covered", 200))
                    .col(col("copay_bp").integer().not_null().default(0))
                    // The sum insured over a policy's period (none: no limit).
                    .col(money_null("limit_minor"))
                    .col(col("preauth_required").boolean().not_null().default(false))
                    .col(col("active").boolean().not_null().default(true))
                    .col(at("created_at"))
                    .check(Expr::cust("copay_bp >= 0 AND copay_bp <= 10000"))
                    .check(Expr::cust("limit_minor IS NULL OR limit_minor >= 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("insurance_plans_code_key", "insurance_plans", &["code"]).unique().to_owned())
            .await?;

        manager
            .create_table(
                table("insurance_policies")
                    .col(id())
                    .col(uuid("patient_id"))
                    .col(uuid("plan_id"))
                    .col(text("member_number", 40))
                    .col(text_null("holder", 200))
                    .col(col("valid_from").date().not_null())
                    .col(col("valid_to").date().not_null())
                    .col(text("status", 12))
                    .col(uuid("created_by"))
                    .col(at("created_at"))
                    .check(Expr::cust("valid_from <= valid_to"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("insurance_policies_member_key", "insurance_policies", &["plan_id", "member_number"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("insurance_policies_patient_idx", "insurance_policies", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("preauthorisations")
                    .col(id())
                    .col(text("number", 40))
                    .col(uuid("patient_id"))
                    .col(uuid("policy_id"))
                    .col(uuid_null("admission_id"))
                    .col(text("diagnosis", 300))
                    .col(money("requested_minor"))
                    .col(money_null("approved_minor"))
                    .col(text("status", 12))
                    .col(text_null("reference", 100))
                    .col(text_null("note", 300))
                    .col(uuid("requested_by"))
                    .col(at("requested_at"))
                    .col(uuid_null("decided_by"))
                    .col(at_null("decided_at"))
                    .col(col("version").integer().not_null().default(1))
                    .check(Expr::cust("requested_minor > 0"))
                    .check(Expr::cust("approved_minor IS NULL OR approved_minor >= 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("preauthorisations_number_key", "preauthorisations", &["number"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "preauthorisations_status_idx",
                "preauthorisations",
                &["status", "requested_at"],
            ))
            .await?;
        manager
            .create_index(index("preauthorisations_patient_idx", "preauthorisations", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("preauthorisation_documents")
                    .col(uuid("preauthorisation_id"))
                    .col(uuid("attachment_id"))
                    .primary_key(
                        Index::create()
                            .col(Alias::new("preauthorisation_id"))
                            .col(Alias::new("attachment_id")),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("claims")
                    .col(id())
                    .col(text("number", 40))
                    .col(col("claim_version").integer().not_null())
                    .col(uuid_null("previous_id"))
                    .col(uuid("patient_id"))
                    .col(uuid("policy_id"))
                    .col(uuid("payer_id"))
                    .col(uuid("invoice_id"))
                    .col(uuid_null("preauthorisation_id"))
                    .col(text("status", 16))
                    .col(money("invoice_total_minor"))
                    .col(money("claimed_minor"))
                    .col(money("patient_share_minor"))
                    .col(money_null("approved_minor"))
                    .col(money("settled_minor"))
                    .col(money("deductions_minor"))
                    .col(text_null("decision_note", 300))
                    .col(text_null("payer_reference", 100))
                    .col(text_null("remittance_reference", 100))
                    .col(uuid("created_by"))
                    .col(at("created_at"))
                    .col(at_null("submitted_at"))
                    .col(at_null("decided_at"))
                    .col(at_null("settled_at"))
                    .col(at_null("closed_at"))
                    .col(col("version").integer().not_null().default(1))
                    .check(Expr::cust("claimed_minor >= 0 AND patient_share_minor >= 0"))
                    .check(Expr::cust(
                        "approved_minor IS NULL OR (approved_minor >= 0 AND approved_minor <= claimed_minor)",
                    ))
                    .check(Expr::cust("settled_minor >= 0 AND deductions_minor >= 0"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("claims_number_key", "claims", &["number", "claim_version"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("claims_status_idx", "claims", &["status", "submitted_at"])).await?;
        manager.create_index(index("claims_patient_idx", "claims", &["patient_id"])).await?;
        manager.create_index(index("claims_policy_idx", "claims", &["policy_id"])).await?;

        manager
            .create_table(
                table("claim_lines")
                    .col(id())
                    .col(uuid("claim_id"))
                    .col(uuid("invoice_line_id"))
                    .col(text("description", 200))
                    .col(text("category", 16))
                    .col(money("net_minor"))
                    .col(money("insurer_minor"))
                    .col(money("patient_minor"))
                    .check(Expr::cust("insurer_minor >= 0 AND patient_minor >= 0"))
                    .check(Expr::cust("insurer_minor + patient_minor = net_minor"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("claim_lines_claim_idx", "claim_lines", &["claim_id"])).await?;

        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX claims_invoice_live_key ON claims (invoice_id) \
                 WHERE status NOT IN ('denied', 'closed')",
            )
            .await?;

        // The leak check reads each context's billable events by when they happened.
        for (name, table, column) in LEAK_INDEXES {
            manager.create_index(index(name, table, &[column])).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in LEAK_INDEXES {
            manager.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned()).await?;
        }
        for t in [
            "claim_lines",
            "claims",
            "preauthorisation_documents",
            "preauthorisations",
            "insurance_policies",
            "insurance_plans",
            "payers",
            "billing_exemptions",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
