use salus_core::laboratory::RangeSex;
use sea_orm::entity::prelude::*;

/// A reference range: a half-open age band in days, for a sex, with its limits.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "lab_reference_ranges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub test_id: Uuid,
    pub sex: RangeSex,
    pub age_from_days: i32,
    pub age_to_days: Option<i32>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub critical_low: Option<f64>,
    pub critical_high: Option<f64>,
    pub valid_low: Option<f64>,
    pub valid_high: Option<f64>,
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
