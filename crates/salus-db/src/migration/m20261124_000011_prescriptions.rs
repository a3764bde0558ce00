//! The medicine catalog (seeded with the WHO essential medicines the project carries in
//! `data/medicines/`) and prescriptions (FHIR MedicationRequest). A prescription copies
//! the medicine's name as it was prescribed, so a later catalog edit never changes it.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000011_prescriptions"
    }
}

static SEED: &str = include_str!("../../../../data/medicines/essential-medicines.tsv");

#[derive(DeriveIden)]
enum Medicines {
    Table,
    Id,
    GenericName,
    Form,
    Strength,
    Route,
    AtcCode,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Prescriptions {
    Table,
    Id,
    PatientId,
    EncounterId,
    PrescriberId,
    MedicineId,
    MedicineName,
    Dose,
    Route,
    Frequency,
    DurationDays,
    Quantity,
    Instructions,
    Status,
    StatusReason,
    OverrideReason,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Medicines as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(ColumnDef::new(M::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(M::GenericName).string_len(200).not_null())
                    .col(ColumnDef::new(M::Form).string_len(100).not_null())
                    .col(ColumnDef::new(M::Strength).string_len(100).not_null())
                    .col(ColumnDef::new(M::Route).string_len(40).not_null())
                    .col(ColumnDef::new(M::AtcCode).string_len(10).null())
                    .col(ColumnDef::new(M::Active).boolean().not_null().default(true))
                    .col(ColumnDef::new(M::Version).integer().not_null().default(1))
                    .col(ColumnDef::new(M::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(M::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("medicines_name_form_strength_key")
                    .table(M::Table)
                    .col(M::GenericName)
                    .col(M::Form)
                    .col(M::Strength)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        let mut seed = Query::insert()
            .into_table(M::Table)
            .columns([
                M::Id,
                M::GenericName,
                M::Form,
                M::Strength,
                M::Route,
                M::AtcCode,
                M::CreatedAt,
                M::UpdatedAt,
            ])
            .to_owned();
        for line in SEED.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 5 {
                return Err(DbErr::Migration(format!("bad medicine seed line: {line}")));
            }
            seed.values_panic([
                uuid::Uuid::now_v7().into(),
                f[0].into(),
                f[1].into(),
                f[2].into(),
                f[3].into(),
                f[4].into(),
                now.into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(seed).await?;

        use Prescriptions as P;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .col(ColumnDef::new(P::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(P::PatientId).uuid().not_null())
                    .col(ColumnDef::new(P::EncounterId).uuid().null())
                    .col(ColumnDef::new(P::PrescriberId).uuid().not_null())
                    .col(ColumnDef::new(P::MedicineId).uuid().not_null())
                    .col(ColumnDef::new(P::MedicineName).string_len(400).not_null())
                    .col(ColumnDef::new(P::Dose).string_len(100).not_null())
                    .col(ColumnDef::new(P::Route).string_len(40).not_null())
                    .col(ColumnDef::new(P::Frequency).string_len(100).not_null())
                    .col(ColumnDef::new(P::DurationDays).integer().null())
                    .col(ColumnDef::new(P::Quantity).integer().null())
                    .col(ColumnDef::new(P::Instructions).string_len(500).null())
                    // active, completed, stopped, entered_in_error
                    .col(ColumnDef::new(P::Status).string_len(20).not_null())
                    .col(ColumnDef::new(P::StatusReason).string_len(300).null())
                    // Why a warning (allergy, duplicate) was overridden.
                    .col(ColumnDef::new(P::OverrideReason).string_len(300).null())
                    .col(ColumnDef::new(P::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(P::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(P::Version).integer().not_null().default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("prescriptions_patient_fk")
                            .from(P::Table, P::PatientId)
                            .to(Alias::new("patients"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("prescriptions_medicine_fk")
                            .from(P::Table, P::MedicineId)
                            .to(M::Table, M::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("prescriptions_patient_idx", vec![P::PatientId, P::CreatedAt]),
            ("prescriptions_encounter_idx", vec![P::EncounterId]),
        ] {
            let mut i = Index::create().name(name).table(P::Table).to_owned();
            for c in cols {
                i.col(c);
            }
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("prescriptions")).to_owned()).await?;
        manager.drop_table(Table::drop().table(Alias::new("medicines")).to_owned()).await
    }
}
