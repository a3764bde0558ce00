use sea_orm::entity::prelude::*;

/// What the hospital records of a staff member beyond their account.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub job_title: Option<String>,
    pub qualifications: Option<String>,
    pub registration_council: Option<String>,
    pub registration_number: Option<String>,
    /// Council and number folded; unique.
    pub registration_key: Option<String>,
    pub specialisation_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub consultation_fee_minor: Option<i64>,
    pub version: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
