//! The organisation: facilities, their departments, specialisations (seeded with the
//! common ones), staff profiles linked one-to-one to user accounts, and the service and
//! price list. Every row an administrator edits carries a `version` for optimistic
//! concurrency. Money is `BIGINT` minor units; tax rates are basis points.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000007_organisation"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Facilities {
    Table,
    Id,
    Code,
    Name,
    Address,
    Phone,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
    FacilityId,
    Code,
    Name,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Specialisations {
    Table,
    Id,
    Code,
    Name,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StaffProfiles {
    Table,
    UserId,
    JobTitle,
    Qualifications,
    RegistrationCouncil,
    RegistrationNumber,
    RegistrationKey,
    SpecialisationId,
    DepartmentId,
    ConsultationFeeMinor,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Services {
    Table,
    Id,
    Code,
    Name,
    Category,
    DepartmentId,
    PriceMinor,
    TaxRateBp,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

/// The specialisations a new installation starts with (an administrator adds or retires
/// others).
const SPECIALISATIONS: &[(&str, &str)] = &[
    ("GEN-MED", "General Medicine"),
    ("FAM-MED", "Family Medicine"),
    ("GEN-SURG", "General Surgery"),
    ("PAED", "Paediatrics"),
    ("OBGYN", "Obstetrics and Gynaecology"),
    ("ORTHO", "Orthopaedics"),
    ("CARD", "Cardiology"),
    ("DERM", "Dermatology"),
    ("ENT", "Otorhinolaryngology (ENT)"),
    ("OPHTH", "Ophthalmology"),
    ("PSYCH", "Psychiatry"),
    ("NEURO", "Neurology"),
    ("NEPH", "Nephrology"),
    ("GASTRO", "Gastroenterology"),
    ("PULM", "Pulmonology"),
    ("ENDO", "Endocrinology"),
    ("ONCO", "Oncology"),
    ("URO", "Urology"),
    ("ANAES", "Anaesthesiology"),
    ("RAD", "Radiology"),
    ("PATH", "Pathology"),
    ("EMERG", "Emergency Medicine"),
    ("DENT", "Dentistry"),
    ("PHYSIO", "Physiotherapy"),
];

fn stamps(
    t: &mut TableCreateStatement,
    version: impl IntoIden,
    created: Option<impl IntoIden>,
    updated: impl IntoIden,
) {
    t.col(ColumnDef::new(version).integer().not_null().default(1));
    if let Some(created) = created {
        t.col(ColumnDef::new(created).timestamp_with_time_zone().not_null());
    }
    t.col(ColumnDef::new(updated).timestamp_with_time_zone().not_null());
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut t = Table::create()
            .table(Facilities::Table)
            .col(ColumnDef::new(Facilities::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Facilities::Code).string_len(32).not_null().unique_key())
            .col(ColumnDef::new(Facilities::Name).string_len(200).not_null())
            .col(ColumnDef::new(Facilities::Address).string_len(500).null())
            .col(ColumnDef::new(Facilities::Phone).string_len(32).null())
            .col(ColumnDef::new(Facilities::Active).boolean().not_null().default(true))
            .to_owned();
        stamps(&mut t, Facilities::Version, Some(Facilities::CreatedAt), Facilities::UpdatedAt);
        manager.create_table(t).await?;

        let mut t = Table::create()
            .table(Departments::Table)
            .col(ColumnDef::new(Departments::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Departments::FacilityId).uuid().not_null())
            .col(ColumnDef::new(Departments::Code).string_len(32).not_null())
            .col(ColumnDef::new(Departments::Name).string_len(200).not_null())
            .col(ColumnDef::new(Departments::Active).boolean().not_null().default(true))
            .foreign_key(
                ForeignKey::create()
                    .name("departments_facility_fk")
                    .from(Departments::Table, Departments::FacilityId)
                    .to(Facilities::Table, Facilities::Id),
            )
            .to_owned();
        stamps(&mut t, Departments::Version, Some(Departments::CreatedAt), Departments::UpdatedAt);
        manager.create_table(t).await?;
        manager
            .create_index(
                Index::create()
                    .name("departments_facility_code_key")
                    .table(Departments::Table)
                    .col(Departments::FacilityId)
                    .col(Departments::Code)
                    .unique()
                    .to_owned(),
            )
            .await?;

        let mut t = Table::create()
            .table(Specialisations::Table)
            .col(ColumnDef::new(Specialisations::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Specialisations::Code).string_len(32).not_null().unique_key())
            .col(ColumnDef::new(Specialisations::Name).string_len(200).not_null())
            .col(ColumnDef::new(Specialisations::Active).boolean().not_null().default(true))
            .to_owned();
        stamps(
            &mut t,
            Specialisations::Version,
            Some(Specialisations::CreatedAt),
            Specialisations::UpdatedAt,
        );
        manager.create_table(t).await?;
        let now = chrono::Utc::now();
        let mut seed = Query::insert()
            .into_table(Specialisations::Table)
            .columns([
                Specialisations::Id,
                Specialisations::Code,
                Specialisations::Name,
                Specialisations::CreatedAt,
                Specialisations::UpdatedAt,
            ])
            .to_owned();
        for (code, name) in SPECIALISATIONS {
            seed.values_panic([
                uuid::Uuid::now_v7().into(),
                (*code).into(),
                (*name).into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(seed).await?;

        let mut t = Table::create()
            .table(StaffProfiles::Table)
            .col(ColumnDef::new(StaffProfiles::UserId).uuid().not_null().primary_key())
            .col(ColumnDef::new(StaffProfiles::JobTitle).string_len(100).null())
            .col(ColumnDef::new(StaffProfiles::Qualifications).string_len(300).null())
            .col(ColumnDef::new(StaffProfiles::RegistrationCouncil).string_len(100).null())
            .col(ColumnDef::new(StaffProfiles::RegistrationNumber).string_len(40).null())
            // Council and number, folded: one registration belongs to one person.
            .col(ColumnDef::new(StaffProfiles::RegistrationKey).string_len(150).null().unique_key())
            .col(ColumnDef::new(StaffProfiles::SpecialisationId).uuid().null())
            .col(ColumnDef::new(StaffProfiles::DepartmentId).uuid().null())
            .col(ColumnDef::new(StaffProfiles::ConsultationFeeMinor).big_integer().null())
            .foreign_key(
                ForeignKey::create()
                    .name("staff_profiles_user_fk")
                    .from(StaffProfiles::Table, StaffProfiles::UserId)
                    .to(Users::Table, Users::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("staff_profiles_specialisation_fk")
                    .from(StaffProfiles::Table, StaffProfiles::SpecialisationId)
                    .to(Specialisations::Table, Specialisations::Id),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("staff_profiles_department_fk")
                    .from(StaffProfiles::Table, StaffProfiles::DepartmentId)
                    .to(Departments::Table, Departments::Id),
            )
            .to_owned();
        stamps(&mut t, StaffProfiles::Version, None::<StaffProfiles>, StaffProfiles::UpdatedAt);
        manager.create_table(t).await?;
        for (name, col) in [
            ("staff_profiles_department_idx", StaffProfiles::DepartmentId),
            ("staff_profiles_specialisation_idx", StaffProfiles::SpecialisationId),
        ] {
            manager
                .create_index(Index::create().name(name).table(StaffProfiles::Table).col(col).to_owned())
                .await?;
        }

        let mut t = Table::create()
            .table(Services::Table)
            .col(ColumnDef::new(Services::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Services::Code).string_len(32).not_null().unique_key())
            .col(ColumnDef::new(Services::Name).string_len(200).not_null())
            .col(ColumnDef::new(Services::Category).string_len(16).not_null())
            .col(ColumnDef::new(Services::DepartmentId).uuid().null())
            .col(ColumnDef::new(Services::PriceMinor).big_integer().not_null())
            .col(ColumnDef::new(Services::TaxRateBp).integer().not_null().default(0))
            .col(ColumnDef::new(Services::Active).boolean().not_null().default(true))
            .check(Expr::col(Services::PriceMinor).gte(0))
            .check(Expr::col(Services::TaxRateBp).between(0, 10_000))
            .foreign_key(
                ForeignKey::create()
                    .name("services_department_fk")
                    .from(Services::Table, Services::DepartmentId)
                    .to(Departments::Table, Departments::Id),
            )
            .to_owned();
        stamps(&mut t, Services::Version, Some(Services::CreatedAt), Services::UpdatedAt);
        manager.create_table(t).await?;
        manager
            .create_index(
                Index::create()
                    .name("services_department_idx")
                    .table(Services::Table)
                    .col(Services::DepartmentId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["services", "staff_profiles", "specialisations", "departments", "facilities"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
