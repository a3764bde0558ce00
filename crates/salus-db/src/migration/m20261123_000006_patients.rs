//! The master patient index: patients, their identifiers (with types that say whether a
//! value must be unique), search keys, edit history, the chart's timeline, merges,
//! photos, break-the-glass grants, MRN sequences, and the link from a patient's login
//! account to their record.
//!
//! Name search differs by backend, and only here: SQLite keeps the folded names in an
//! FTS5 table with the trigram tokenizer (its rowid kept in `patients.search_rowid`,
//! since a table keyed by UUID has no stable rowid of its own to use as external content), PostgreSQL puts a pg_trgm GIN index on the
//! folded-names column. Both answer "names containing this token" the same way. Exact
//! keys (phonetic codes, MRN, phone, identifiers, birth date) share one b-tree table;
//! on PostgreSQL its key column has the "C" collation so prefix ranges compare bytes, as
//! SQLite does.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000006_patients"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    PatientId,
}

#[derive(DeriveIden)]
enum IdentifierTypes {
    Table,
    Code,
    Name,
    IsUnique,
    Active,
}

#[derive(DeriveIden)]
enum MrnSequences {
    Table,
    Prefix,
    NextValue,
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
    Mrn,
    GivenNames,
    FamilyName,
    Sex,
    BirthDate,
    BirthDateEstimated,
    Phone,
    PhoneAlt,
    Email,
    AddressLine,
    City,
    District,
    State,
    PostalCode,
    Country,
    BloodGroup,
    PreferredLanguage,
    EmergencyName,
    EmergencyPhone,
    EmergencyRelation,
    Insurer,
    InsurancePolicy,
    ConsentSms,
    ConsentEmail,
    ConsentResearch,
    Restricted,
    RestrictedReason,
    Active,
    DeceasedAt,
    MergedInto,
    Version,
    CreatedAt,
    UpdatedAt,
    SearchNames,
    SearchRowid,
}

#[derive(DeriveIden)]
enum PatientIdentifiers {
    Table,
    PatientId,
    System,
    Value,
    UniqueKey,
}

#[derive(DeriveIden)]
enum PatientKeys {
    Table,
}

#[derive(DeriveIden)]
enum PatientHistory {
    Table,
    Id,
    PatientId,
    Version,
    ChangedAt,
    ChangedBy,
    Changes,
}

#[derive(DeriveIden)]
enum PatientTimeline {
    Table,
    Id,
    PatientId,
    At,
    Kind,
    Summary,
    ActorId,
}

#[derive(DeriveIden)]
enum BreakGlass {
    Table,
    Id,
    UserId,
    PatientId,
    Reason,
    CreatedAt,
    ExpiresAt,
    ReviewedBy,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum PatientMerges {
    Table,
    Id,
    SourceId,
    SurvivorId,
    MergedAt,
    MergedBy,
    Moved,
    UndoneAt,
    UndoneBy,
}

#[derive(DeriveIden)]
enum PatientPhotos {
    Table,
    PatientId,
    ContentType,
    Data,
    UpdatedAt,
}

fn fk(name: &str, from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(Patients::Table, Patients::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create().name(name).table(table).to_owned();
    for c in cols {
        i.col(Alias::new(*c));
    }
    i
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table(IdentifierTypes::Table)
                    .col(ColumnDef::new(IdentifierTypes::Code).string_len(32).not_null().primary_key())
                    .col(ColumnDef::new(IdentifierTypes::Name).string_len(100).not_null())
                    .col(ColumnDef::new(IdentifierTypes::IsUnique).boolean().not_null())
                    .col(ColumnDef::new(IdentifierTypes::Active).boolean().not_null().default(true))
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(IdentifierTypes::Table)
            .columns([IdentifierTypes::Code, IdentifierTypes::Name, IdentifierTypes::IsUnique])
            .values_panic(["national_id".into(), "National ID".into(), true.into()])
            .values_panic(["passport".into(), "Passport".into(), true.into()])
            .values_panic(["driving_licence".into(), "Driving licence".into(), true.into()])
            .values_panic(["insurance".into(), "Insurance member number".into(), false.into()])
            .to_owned();
        manager.exec_stmt(seed).await?;

        manager
            .create_table(
                Table::create()
                    .table(MrnSequences::Table)
                    .col(ColumnDef::new(MrnSequences::Prefix).string_len(8).not_null().primary_key())
                    .col(ColumnDef::new(MrnSequences::NextValue).big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        let s = |c: Patients, n: u32| ColumnDef::new(c).string_len(n).null().to_owned();
        let flag = |c: Patients| ColumnDef::new(c).boolean().not_null().default(false).to_owned();
        let mut t = Table::create();
        t.table(Patients::Table)
            .col(ColumnDef::new(Patients::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Patients::Mrn).string_len(20).not_null())
            .col(ColumnDef::new(Patients::GivenNames).string_len(200).not_null())
            .col(ColumnDef::new(Patients::FamilyName).string_len(200).not_null())
            .col(ColumnDef::new(Patients::Sex).string_len(10).not_null())
            .col(ColumnDef::new(Patients::BirthDate).date().null())
            .col(flag(Patients::BirthDateEstimated));
        for (c, n) in [
            (Patients::Phone, 20),
            (Patients::PhoneAlt, 20),
            (Patients::Email, 254),
            (Patients::AddressLine, 300),
            (Patients::City, 100),
            (Patients::District, 100),
            (Patients::State, 100),
            (Patients::PostalCode, 20),
            (Patients::Country, 2),
            (Patients::BloodGroup, 3),
            (Patients::PreferredLanguage, 35),
            (Patients::EmergencyName, 200),
            (Patients::EmergencyPhone, 20),
            (Patients::EmergencyRelation, 50),
            (Patients::Insurer, 100),
            (Patients::InsurancePolicy, 64),
        ] {
            t.col(s(c, n));
        }
        t.col(flag(Patients::ConsentSms))
            .col(flag(Patients::ConsentEmail))
            .col(flag(Patients::ConsentResearch))
            .col(flag(Patients::Restricted))
            .col(s(Patients::RestrictedReason, 100))
            .col(ColumnDef::new(Patients::Active).boolean().not_null().default(true))
            .col(ColumnDef::new(Patients::DeceasedAt).timestamp_with_time_zone().null())
            .col(ColumnDef::new(Patients::MergedInto).uuid().null())
            .col(ColumnDef::new(Patients::Version).integer().not_null())
            .col(ColumnDef::new(Patients::CreatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(Patients::UpdatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(Patients::SearchNames).string_len(500).not_null())
            // SQLite only: the row of `patient_names_fts` holding this patient's names.
            .col(ColumnDef::new(Patients::SearchRowid).big_integer().null());
        manager.create_table(t.to_owned()).await?;
        manager
            .create_index(index("patients_mrn_key", Patients::Table, &["mrn"]).unique().to_owned())
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientIdentifiers::Table)
                    .col(ColumnDef::new(PatientIdentifiers::PatientId).uuid().not_null())
                    .col(ColumnDef::new(PatientIdentifiers::System).string_len(32).not_null())
                    .col(ColumnDef::new(PatientIdentifiers::Value).string_len(64).not_null())
                    // system:normalised value where the type is unique, else NULL (which a
                    // unique index lets repeat on both databases).
                    .col(ColumnDef::new(PatientIdentifiers::UniqueKey).string_len(100).null())
                    .primary_key(
                        Index::create()
                            .col(PatientIdentifiers::PatientId)
                            .col(PatientIdentifiers::System)
                            .col(PatientIdentifiers::Value),
                    )
                    .foreign_key(&mut fk(
                        "patient_identifiers_patient_id_fkey",
                        (PatientIdentifiers::Table, PatientIdentifiers::PatientId),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("patient_identifiers_system_fkey")
                            .from(PatientIdentifiers::Table, PatientIdentifiers::System)
                            .to(IdentifierTypes::Table, IdentifierTypes::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("patient_identifiers_unique_key", PatientIdentifiers::Table, &["unique_key"])
                    .unique()
                    .to_owned(),
            )
            .await?;

        let key_col = match backend {
            DatabaseBackend::Postgres => "key varchar(80) COLLATE \"C\" NOT NULL",
            _ => "key varchar(80) NOT NULL",
        };
        let patient_col = match backend {
            DatabaseBackend::Postgres => "patient_id uuid NOT NULL",
            _ => "patient_id uuid_text NOT NULL",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE TABLE patient_keys ({key_col}, {patient_col}, PRIMARY KEY (key, patient_id), \
                 CONSTRAINT patient_keys_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES patients (id) ON DELETE CASCADE)"
            ))
            .await?;
        manager
            .create_index(index("patient_keys_patient_id_idx", PatientKeys::Table, &["patient_id"]))
            .await?;
        match backend {
            DatabaseBackend::Postgres => {
                let conn = manager.get_connection();
                conn.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm").await?;
                conn.execute_unprepared(
                    "CREATE INDEX patients_search_names_trgm ON patients USING gin (search_names gin_trgm_ops)",
                )
                .await?;
            }
            _ => {
                manager
                    .get_connection()
                    .execute_unprepared(
                        "CREATE VIRTUAL TABLE patient_names_fts USING fts5(names, patient_id UNINDEXED, tokenize = 'trigram')",
                    )
                    .await?;
            }
        }

        manager
            .create_table(
                Table::create()
                    .table(PatientHistory::Table)
                    .col(ColumnDef::new(PatientHistory::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PatientHistory::PatientId).uuid().not_null())
                    .col(ColumnDef::new(PatientHistory::Version).integer().not_null())
                    .col(ColumnDef::new(PatientHistory::ChangedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(PatientHistory::ChangedBy).uuid().null())
                    .col(ColumnDef::new(PatientHistory::Changes).text().not_null())
                    .foreign_key(&mut fk(
                        "patient_history_patient_id_fkey",
                        (PatientHistory::Table, PatientHistory::PatientId),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "patient_history_patient_idx",
                PatientHistory::Table,
                &["patient_id", "version"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientTimeline::Table)
                    .col(ColumnDef::new(PatientTimeline::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PatientTimeline::PatientId).uuid().not_null())
                    .col(ColumnDef::new(PatientTimeline::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(PatientTimeline::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(PatientTimeline::Summary).string_len(500).not_null())
                    .col(ColumnDef::new(PatientTimeline::ActorId).uuid().null())
                    .foreign_key(&mut fk(
                        "patient_timeline_patient_id_fkey",
                        (PatientTimeline::Table, PatientTimeline::PatientId),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "patient_timeline_chart_idx",
                PatientTimeline::Table,
                &["patient_id", "at", "id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BreakGlass::Table)
                    .col(ColumnDef::new(BreakGlass::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(BreakGlass::UserId).uuid().not_null())
                    .col(ColumnDef::new(BreakGlass::PatientId).uuid().not_null())
                    .col(ColumnDef::new(BreakGlass::Reason).string_len(500).not_null())
                    .col(ColumnDef::new(BreakGlass::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BreakGlass::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(BreakGlass::ReviewedBy).uuid().null())
                    .col(ColumnDef::new(BreakGlass::ReviewedAt).timestamp_with_time_zone().null())
                    .foreign_key(&mut fk(
                        "break_glass_patient_id_fkey",
                        (BreakGlass::Table, BreakGlass::PatientId),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("break_glass_user_id_fkey")
                            .from(BreakGlass::Table, BreakGlass::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "break_glass_grant_idx",
                BreakGlass::Table,
                &["user_id", "patient_id", "expires_at"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientMerges::Table)
                    .col(ColumnDef::new(PatientMerges::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PatientMerges::SourceId).uuid().not_null())
                    .col(ColumnDef::new(PatientMerges::SurvivorId).uuid().not_null())
                    .col(ColumnDef::new(PatientMerges::MergedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(PatientMerges::MergedBy).uuid().null())
                    .col(ColumnDef::new(PatientMerges::Moved).text().not_null())
                    .col(ColumnDef::new(PatientMerges::UndoneAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(PatientMerges::UndoneBy).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("patient_merges_source_idx", PatientMerges::Table, &["source_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PatientPhotos::Table)
                    .col(ColumnDef::new(PatientPhotos::PatientId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PatientPhotos::ContentType).string_len(32).not_null())
                    .col(ColumnDef::new(PatientPhotos::Data).blob().not_null())
                    .col(ColumnDef::new(PatientPhotos::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "patient_photos_patient_id_fkey",
                        (PatientPhotos::Table, PatientPhotos::PatientId),
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::PatientId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("users_patient_id_idx", Users::Table, &["patient_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("users_patient_id_idx").table(Users::Table).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Users::Table).drop_column(Users::PatientId).to_owned())
            .await?;
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP TABLE patient_names_fts").await?;
        }
        for t in [
            Alias::new("patient_photos"),
            Alias::new("patient_merges"),
            Alias::new("break_glass"),
            Alias::new("patient_timeline"),
            Alias::new("patient_history"),
            Alias::new("patient_keys"),
            Alias::new("patient_identifiers"),
            Alias::new("patients"),
            Alias::new("mrn_sequences"),
            Alias::new("identifier_types"),
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
