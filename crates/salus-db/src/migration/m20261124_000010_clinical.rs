//! The clinical record: encounters, vital signs, notes (drafts, signed, amendments),
//! note templates, diagnoses (the problem list), allergies and immunizations.
//!
//! Nothing clinical is deleted: a mistake is marked `entered_in_error` with a reason. A
//! signed note is never updated — the UPDATE that saves a draft requires `status =
//! 'draft'` — and an amendment is a new row that `amends` the one it corrects. Vital
//! signs are integers in fixed units (tenths of °C, grams, millimetres) so nothing is a
//! float.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000010_clinical"
    }
}

#[derive(DeriveIden)]
enum Encounters {
    Table,
    Id,
    PatientId,
    AppointmentId,
    Class,
    Status,
    DoctorId,
    DepartmentId,
    ChiefComplaint,
    StartedAt,
    EndedAt,
    ErrorReason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Vitals {
    Table,
    Id,
    EncounterId,
    PatientId,
    RecordedAt,
    RecordedBy,
    TemperatureDc,
    PulseBpm,
    Systolic,
    Diastolic,
    RespiratoryRate,
    Spo2,
    WeightG,
    HeightMm,
    BmiX10,
    ErrorReason,
}

#[derive(DeriveIden)]
enum Notes {
    Table,
    Id,
    EncounterId,
    PatientId,
    AuthorId,
    Status,
    Amends,
    AmendReason,
    Subjective,
    Objective,
    Assessment,
    Plan,
    SignedAt,
    ErrorReason,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum NoteTemplates {
    Table,
    Id,
    DepartmentId,
    Name,
    Subjective,
    Objective,
    Assessment,
    Plan,
    Active,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Diagnoses {
    Table,
    Id,
    PatientId,
    EncounterId,
    Code,
    Description,
    ClinicalStatus,
    OnsetDate,
    RecordedBy,
    RecordedAt,
    ResolvedAt,
    ErrorReason,
    Version,
}

#[derive(DeriveIden)]
enum Allergies {
    Table,
    Id,
    PatientId,
    Substance,
    Reaction,
    Severity,
    Status,
    RecordedBy,
    RecordedAt,
    ErrorReason,
    Version,
}

#[derive(DeriveIden)]
enum Immunizations {
    Table,
    Id,
    PatientId,
    Vaccine,
    DoseNumber,
    GivenOn,
    LotNumber,
    RecordedBy,
    RecordedAt,
    ErrorReason,
}

fn patient_fk(name: &str, table: impl IntoIden, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, col)
        .to(Alias::new("patients"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn idx(name: &str, table: impl IntoIden, cols: Vec<Alias>) -> IndexCreateStatement {
    let mut i = Index::create().name(name).table(table).to_owned();
    for c in cols {
        i.col(c);
    }
    i
}

fn a(s: &str) -> Alias {
    Alias::new(s)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Encounters as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(E::PatientId).uuid().not_null())
                    .col(ColumnDef::new(E::AppointmentId).uuid().null().unique_key())
                    // FHIR Encounter.class: AMB (outpatient) or EMER.
                    .col(ColumnDef::new(E::Class).string_len(8).not_null())
                    // in_progress, finished, entered_in_error
                    .col(ColumnDef::new(E::Status).string_len(20).not_null())
                    .col(ColumnDef::new(E::DoctorId).uuid().not_null())
                    .col(ColumnDef::new(E::DepartmentId).uuid().null())
                    .col(ColumnDef::new(E::ChiefComplaint).string_len(500).null())
                    .col(ColumnDef::new(E::StartedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(E::EndedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(E::ErrorReason).string_len(300).null())
                    .col(ColumnDef::new(E::CreatedBy).uuid().null())
                    .col(ColumnDef::new(E::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(E::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(E::Version).integer().not_null().default(1))
                    .foreign_key(&mut patient_fk("encounters_patient_fk", E::Table, E::PatientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(idx(
                "encounters_patient_idx",
                E::Table,
                vec![a("patient_id"), a("started_at"), a("id")],
            ))
            .await?;

        use Vitals as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(ColumnDef::new(V::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(V::EncounterId).uuid().null())
                    .col(ColumnDef::new(V::PatientId).uuid().not_null())
                    .col(ColumnDef::new(V::RecordedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(V::RecordedBy).uuid().null())
                    .col(ColumnDef::new(V::TemperatureDc).integer().null())
                    .col(ColumnDef::new(V::PulseBpm).integer().null())
                    .col(ColumnDef::new(V::Systolic).integer().null())
                    .col(ColumnDef::new(V::Diastolic).integer().null())
                    .col(ColumnDef::new(V::RespiratoryRate).integer().null())
                    .col(ColumnDef::new(V::Spo2).integer().null())
                    .col(ColumnDef::new(V::WeightG).integer().null())
                    .col(ColumnDef::new(V::HeightMm).integer().null())
                    .col(ColumnDef::new(V::BmiX10).integer().null())
                    .col(ColumnDef::new(V::ErrorReason).string_len(300).null())
                    .foreign_key(&mut patient_fk("vitals_patient_fk", V::Table, V::PatientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(idx("vitals_patient_idx", V::Table, vec![a("patient_id"), a("recorded_at")]))
            .await?;
        manager.create_index(idx("vitals_encounter_idx", V::Table, vec![a("encounter_id")])).await?;

        use Notes as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(ColumnDef::new(N::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(N::EncounterId).uuid().not_null())
                    .col(ColumnDef::new(N::PatientId).uuid().not_null())
                    .col(ColumnDef::new(N::AuthorId).uuid().not_null())
                    // draft, signed, entered_in_error
                    .col(ColumnDef::new(N::Status).string_len(20).not_null())
                    .col(ColumnDef::new(N::Amends).uuid().null())
                    .col(ColumnDef::new(N::AmendReason).string_len(500).null())
                    .col(ColumnDef::new(N::Subjective).text().not_null())
                    .col(ColumnDef::new(N::Objective).text().not_null())
                    .col(ColumnDef::new(N::Assessment).text().not_null())
                    .col(ColumnDef::new(N::Plan).text().not_null())
                    .col(ColumnDef::new(N::SignedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(N::ErrorReason).string_len(300).null())
                    .col(ColumnDef::new(N::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(N::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(N::Version).integer().not_null().default(1))
                    .foreign_key(&mut patient_fk("notes_patient_fk", N::Table, N::PatientId))
                    .to_owned(),
            )
            .await?;
        manager.create_index(idx("notes_encounter_idx", N::Table, vec![a("encounter_id")])).await?;
        manager
            .create_index(idx("notes_patient_idx", N::Table, vec![a("patient_id"), a("created_at")]))
            .await?;
        manager.create_index(idx("notes_amends_idx", N::Table, vec![a("amends")])).await?;

        use NoteTemplates as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(ColumnDef::new(T::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(T::DepartmentId).uuid().null())
                    .col(ColumnDef::new(T::Name).string_len(200).not_null())
                    .col(ColumnDef::new(T::Subjective).text().not_null())
                    .col(ColumnDef::new(T::Objective).text().not_null())
                    .col(ColumnDef::new(T::Assessment).text().not_null())
                    .col(ColumnDef::new(T::Plan).text().not_null())
                    .col(ColumnDef::new(T::Active).boolean().not_null().default(true))
                    .col(ColumnDef::new(T::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;

        use Diagnoses as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(D::PatientId).uuid().not_null())
                    .col(ColumnDef::new(D::EncounterId).uuid().null())
                    .col(ColumnDef::new(D::Code).string_len(10).not_null())
                    .col(ColumnDef::new(D::Description).string_len(300).not_null())
                    // active, resolved (FHIR Condition.clinicalStatus)
                    .col(ColumnDef::new(D::ClinicalStatus).string_len(12).not_null())
                    .col(ColumnDef::new(D::OnsetDate).date().null())
                    .col(ColumnDef::new(D::RecordedBy).uuid().null())
                    .col(ColumnDef::new(D::RecordedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(D::ResolvedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(D::ErrorReason).string_len(300).null())
                    .col(ColumnDef::new(D::Version).integer().not_null().default(1))
                    .foreign_key(&mut patient_fk("diagnoses_patient_fk", D::Table, D::PatientId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(idx("diagnoses_patient_idx", D::Table, vec![a("patient_id"), a("recorded_at")]))
            .await?;

        use Allergies as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(ColumnDef::new(L::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(L::PatientId).uuid().not_null())
                    .col(ColumnDef::new(L::Substance).string_len(200).not_null())
                    .col(ColumnDef::new(L::Reaction).string_len(300).null())
                    // mild, moderate, severe
                    .col(ColumnDef::new(L::Severity).string_len(10).not_null())
                    // active, inactive, resolved (FHIR AllergyIntolerance.clinicalStatus)
                    .col(ColumnDef::new(L::Status).string_len(10).not_null())
                    .col(ColumnDef::new(L::RecordedBy).uuid().null())
                    .col(ColumnDef::new(L::RecordedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(L::ErrorReason).string_len(300).null())
                    .col(ColumnDef::new(L::Version).integer().not_null().default(1))
                    .foreign_key(&mut patient_fk("allergies_patient_fk", L::Table, L::PatientId))
                    .to_owned(),
            )
            .await?;
        manager.create_index(idx("allergies_patient_idx", L::Table, vec![a("patient_id")])).await?;

        use Immunizations as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(ColumnDef::new(I::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(I::PatientId).uuid().not_null())
                    .col(ColumnDef::new(I::Vaccine).string_len(200).not_null())
                    .col(ColumnDef::new(I::DoseNumber).integer().null())
                    .col(ColumnDef::new(I::GivenOn).date().not_null())
                    .col(ColumnDef::new(I::LotNumber).string_len(50).null())
                    .col(ColumnDef::new(I::RecordedBy).uuid().null())
                    .col(ColumnDef::new(I::RecordedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(I::ErrorReason).string_len(300).null())
                    .foreign_key(&mut patient_fk("immunizations_patient_fk", I::Table, I::PatientId))
                    .to_owned(),
            )
            .await?;
        manager.create_index(idx("immunizations_patient_idx", I::Table, vec![a("patient_id")])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in
            ["immunizations", "allergies", "diagnoses", "note_templates", "notes", "vitals", "encounters"]
        {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
