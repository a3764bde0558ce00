//! Referrals (to a department or a doctor) and attachments. An attachment's bytes live
//! outside the database, content-addressed by their SHA-256 (the same scan uploaded twice
//! is stored once); the row keeps who may see it and what it is.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000012_referrals_and_attachments"
    }
}

#[derive(DeriveIden)]
enum Referrals {
    Table,
    Id,
    PatientId,
    EncounterId,
    FromDoctorId,
    ToDepartmentId,
    ToDoctorId,
    Reason,
    Urgency,
    Status,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum Attachments {
    Table,
    Id,
    PatientId,
    EncounterId,
    Filename,
    ContentType,
    SizeBytes,
    Sha256,
    UploadedBy,
    UploadedAt,
    ErrorReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Referrals as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(ColumnDef::new(R::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(R::PatientId).uuid().not_null())
                    .col(ColumnDef::new(R::EncounterId).uuid().null())
                    .col(ColumnDef::new(R::FromDoctorId).uuid().not_null())
                    .col(ColumnDef::new(R::ToDepartmentId).uuid().null())
                    .col(ColumnDef::new(R::ToDoctorId).uuid().null())
                    .col(ColumnDef::new(R::Reason).string_len(1000).not_null())
                    // routine, urgent
                    .col(ColumnDef::new(R::Urgency).string_len(10).not_null())
                    // open, accepted, completed, cancelled
                    .col(ColumnDef::new(R::Status).string_len(12).not_null())
                    .col(ColumnDef::new(R::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(R::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(R::Version).integer().not_null().default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .name("referrals_patient_fk")
                            .from(R::Table, R::PatientId)
                            .to(Alias::new("patients"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("referrals_patient_idx").table(R::Table).col(R::PatientId).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("referrals_to_doctor_idx")
                    .table(R::Table)
                    .col(R::ToDoctorId)
                    .col(R::Status)
                    .to_owned(),
            )
            .await?;

        use Attachments as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(A::PatientId).uuid().not_null())
                    .col(ColumnDef::new(A::EncounterId).uuid().null())
                    .col(ColumnDef::new(A::Filename).string_len(255).not_null())
                    .col(ColumnDef::new(A::ContentType).string_len(100).not_null())
                    .col(ColumnDef::new(A::SizeBytes).big_integer().not_null())
                    .col(ColumnDef::new(A::Sha256).string_len(64).not_null())
                    .col(ColumnDef::new(A::UploadedBy).uuid().null())
                    .col(ColumnDef::new(A::UploadedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::ErrorReason).string_len(300).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("attachments_patient_fk")
                            .from(A::Table, A::PatientId)
                            .to(Alias::new("patients"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("attachments_patient_idx")
                    .table(A::Table)
                    .col(A::PatientId)
                    .col(A::UploadedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Alias::new("attachments")).to_owned()).await?;
        manager.drop_table(Table::drop().table(Alias::new("referrals")).to_owned()).await
    }
}
