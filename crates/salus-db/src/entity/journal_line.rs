use salus_core::billing::Account;
use sea_orm::entity::prelude::*;

/// One line of a journal entry (debit positive, credit negative; an entry sums to zero).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "journal_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entry_id: Uuid,
    pub source_type: String,
    pub source_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub account: Account,
    pub department: Option<String>,
    pub amount_minor: i64,
    pub posted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
