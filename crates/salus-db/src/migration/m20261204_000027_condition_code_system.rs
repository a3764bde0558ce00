//! A problem's code system: ICD-10-CM for everything written in Salus (every row so far),
//! SNOMED CT for conditions taken in from a system that codes in it (FHIR import).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000027_condition_code_system"
    }
}

#[derive(DeriveIden)]
enum Diagnoses {
    Table,
    CodeSystem,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Diagnoses::Table)
                    .add_column(ColumnDef::new(Diagnoses::CodeSystem).text().not_null().default("icd-10-cm"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Diagnoses::Table).drop_column(Diagnoses::CodeSystem).to_owned())
            .await
    }
}
