use salus_core::insurance::ClaimStatus;
use sea_orm::entity::prelude::*;

/// A claim on an invoice, one version of its claim number.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub claim_version: i32,
    pub previous_id: Option<Uuid>,
    pub patient_id: Uuid,
    pub policy_id: Uuid,
    pub payer_id: Uuid,
    pub invoice_id: Uuid,
    pub preauthorisation_id: Option<Uuid>,
    pub status: ClaimStatus,
    pub invoice_total_minor: i64,
    pub claimed_minor: i64,
    pub patient_share_minor: i64,
    pub approved_minor: Option<i64>,
    pub settled_minor: i64,
    pub deductions_minor: i64,
    pub decision_note: Option<String>,
    pub payer_reference: Option<String>,
    pub remittance_reference: Option<String>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub settled_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
