//! Schema migrations, written in Rust so one definition serves SQLite and PostgreSQL.
//!
//! Rules that keep upgrades safe: a migration is never edited once released (add a new
//! one); each is named `mYYYYMMDD_NNNNNN_what`; a database that has a migration this binary
//! does not know was upgraded by a newer Salus and is refused rather than half-understood.

use sea_orm_migration::prelude::*;

mod columns;
mod m20261123_000001_identity;
mod m20261123_000002_audit;
mod m20261123_000003_login_failures;
mod m20261123_000004_must_change_password;
mod m20261123_000005_two_factor_and_tokens;
mod m20261123_000006_patients;
mod m20261124_000007_organisation;
mod m20261124_000008_scheduling;
mod m20261124_000009_jobs_and_notifications;
mod m20261124_000010_clinical;
mod m20261124_000011_prescriptions;
mod m20261124_000012_referrals_and_attachments;
mod m20261125_000013_directed_name_pairs;
mod m20261129_000014_merged_clinical_rows;
mod m20261129_000015_server_secrets;
mod m20261129_000016_auth_revocations;
mod m20261130_000017_laboratory;
mod m20261130_000018_imaging;
mod m20261130_000019_pharmacy;
mod m20261130_000020_stock_counts;
mod m20261201_000021_purchase_orders;
mod m20261201_000022_inpatient;
mod m20261201_000023_medication_administration;
mod m20261201_000024_ward_records;
mod m20261202_000025_billing;
mod m20261203_000026_insurance;
mod m20261204_000027_condition_code_system;
mod m20261205_000028_bulk_exports;
mod m20261205_000029_smart_apps;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_identity::Migration),
            Box::new(m20261123_000002_audit::Migration),
            Box::new(m20261123_000003_login_failures::Migration),
            Box::new(m20261123_000004_must_change_password::Migration),
            Box::new(m20261123_000005_two_factor_and_tokens::Migration),
            Box::new(m20261123_000006_patients::Migration),
            Box::new(m20261124_000007_organisation::Migration),
            Box::new(m20261124_000008_scheduling::Migration),
            Box::new(m20261124_000009_jobs_and_notifications::Migration),
            Box::new(m20261124_000010_clinical::Migration),
            Box::new(m20261124_000011_prescriptions::Migration),
            Box::new(m20261124_000012_referrals_and_attachments::Migration),
            Box::new(m20261125_000013_directed_name_pairs::Migration),
            Box::new(m20261129_000014_merged_clinical_rows::Migration),
            Box::new(m20261129_000015_server_secrets::Migration),
            Box::new(m20261129_000016_auth_revocations::Migration),
            Box::new(m20261130_000017_laboratory::Migration),
            Box::new(m20261130_000018_imaging::Migration),
            Box::new(m20261130_000019_pharmacy::Migration),
            Box::new(m20261130_000020_stock_counts::Migration),
            Box::new(m20261201_000021_purchase_orders::Migration),
            Box::new(m20261201_000022_inpatient::Migration),
            Box::new(m20261201_000023_medication_administration::Migration),
            Box::new(m20261201_000024_ward_records::Migration),
            Box::new(m20261202_000025_billing::Migration),
            Box::new(m20261203_000026_insurance::Migration),
            Box::new(m20261204_000027_condition_code_system::Migration),
            Box::new(m20261205_000028_bulk_exports::Migration),
            Box::new(m20261205_000029_smart_apps::Migration),
        ]
    }
}

/// Where a database stands against this binary's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationState {
    Current,
    /// Migrations this binary would apply.
    Pending(Vec<String>),
    /// A migration applied by a newer binary.
    Newer(String),
}

pub(crate) fn known_names() -> Vec<String> {
    Migrator::migrations().iter().map(|m| m.name().to_owned()).collect()
}
