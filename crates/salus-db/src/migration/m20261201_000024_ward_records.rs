//! The ward's own records of a stay: the discharge summary (one per stay, drafted, then
//! signed and never changed), the nurses' notes per shift, intake and output, and nursing
//! tasks with due times (a task tied to a price-list service charges it once when done).

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000024_ward_records"
    }
}

fn uuid(name: &str) -> ColumnDef {
    col(name).uuid().not_null().to_owned()
}

fn uuid_null(name: &str) -> ColumnDef {
    col(name).uuid().null().to_owned()
}

fn long(name: &str) -> ColumnDef {
    col(name).text().not_null().default("").to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("discharge_summaries")
                    .col(id())
                    .col(uuid("admission_id"))
                    .col(uuid("patient_id"))
                    .col(long("diagnoses"))
                    .col(long("procedures"))
                    .col(long("key_results"))
                    .col(long("medicines"))
                    .col(long("follow_up"))
                    .col(long("instructions"))
                    .col(text("status", 10))
                    .col(uuid("drafted_by"))
                    .col(at("drafted_at"))
                    .col(uuid_null("signed_by"))
                    .col(at_null("signed_at"))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("discharge_summaries_admission_key", "discharge_summaries", &["admission_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("discharge_summaries_patient_idx", "discharge_summaries", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("nursing_notes")
                    .col(id())
                    .col(uuid("admission_id"))
                    .col(uuid("patient_id"))
                    .col(text("shift", 10))
                    .col(long("body"))
                    .col(uuid_null("amends_id"))
                    .col(uuid("author_id"))
                    .col(at("written_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "nursing_notes_admission_idx",
                "nursing_notes",
                &["admission_id", "written_at"],
            ))
            .await?;
        manager.create_index(index("nursing_notes_patient_idx", "nursing_notes", &["patient_id"])).await?;

        manager
            .create_table(
                table("intake_output")
                    .col(id())
                    .col(uuid("admission_id"))
                    .col(uuid("patient_id"))
                    .col(text("direction", 8))
                    .col(text("route", 20))
                    .col(col("volume_ml").integer().not_null())
                    .col(at("measured_at"))
                    .col(text_null("note", 300))
                    .col(text_null("error_reason", 300))
                    .col(uuid("recorded_by"))
                    .col(at("recorded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "intake_output_admission_idx",
                "intake_output",
                &["admission_id", "measured_at"],
            ))
            .await?;
        manager.create_index(index("intake_output_patient_idx", "intake_output", &["patient_id"])).await?;

        manager
            .create_table(
                table("nursing_tasks")
                    .col(id())
                    .col(uuid("admission_id"))
                    .col(uuid("patient_id"))
                    .col(text("description", 300))
                    .col(at("due_at"))
                    .col(text_null("service_code", 20))
                    .col(text("status", 10))
                    .col(text_null("outcome", 300))
                    .col(uuid_null("done_by"))
                    .col(at_null("done_at"))
                    .col(uuid("created_by"))
                    .col(at("created_at"))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("nursing_tasks_admission_idx", "nursing_tasks", &["admission_id", "due_at"]))
            .await?;
        manager.create_index(index("nursing_tasks_patient_idx", "nursing_tasks", &["patient_id"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["nursing_tasks", "intake_output", "nursing_notes", "discharge_summaries"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
