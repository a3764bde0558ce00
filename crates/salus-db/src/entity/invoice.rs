use salus_core::billing::{InvoiceKind, InvoiceStatus};
use sea_orm::entity::prelude::*;

/// A posted invoice: never changed after posting but for the money paid against it and
/// its cancellation by a credit note.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invoices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub number: String,
    pub fiscal_year: String,
    pub patient_id: Uuid,
    pub admission_id: Option<Uuid>,
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub currency: String,
    pub gross_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub refunded_minor: i64,
    pub discount_reason: Option<String>,
    pub approved_by: Option<Uuid>,
    pub posted_by: Uuid,
    pub posted_at: DateTimeUtc,
    pub credit_note_number: Option<String>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<Uuid>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub print_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
