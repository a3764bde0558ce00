use salus_core::inpatient::nursing::Shift;
use sea_orm::entity::prelude::*;

/// A nurse's note of a shift.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "nursing_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub admission_id: Uuid,
    pub patient_id: Uuid,
    pub shift: Shift,
    pub body: String,
    pub amends_id: Option<Uuid>,
    pub author_id: Uuid,
    pub written_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
