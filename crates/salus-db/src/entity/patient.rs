use sea_orm::entity::prelude::*;

/// A patient's demographics (FHIR Patient's shape). `search_names` holds the folded
/// names that trigram search reads; the exact search keys live in `patient_keys`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "patients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mrn: String,
    pub given_names: String,
    pub family_name: String,
    pub sex: String,
    pub birth_date: Option<Date>,
    pub birth_date_estimated: bool,
    pub phone: Option<String>,
    pub phone_alt: Option<String>,
    pub email: Option<String>,
    pub address_line: Option<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub blood_group: Option<String>,
    pub preferred_language: Option<String>,
    pub emergency_name: Option<String>,
    pub emergency_phone: Option<String>,
    pub emergency_relation: Option<String>,
    pub insurer: Option<String>,
    pub insurance_policy: Option<String>,
    pub consent_sms: bool,
    pub consent_email: bool,
    pub consent_research: bool,
    /// VIP, staff member, sensitive: clinicians open it only by breaking the glass.
    pub restricted: bool,
    pub restricted_reason: Option<String>,
    pub active: bool,
    pub deceased_at: Option<DateTimeUtc>,
    /// Set when this record was merged into another; it then only points there.
    pub merged_into: Option<Uuid>,
    /// Bumped by every change; an edit names the version it started from.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub search_names: String,
    /// SQLite only: this patient's row in `patient_names_fts`.
    pub search_rowid: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
