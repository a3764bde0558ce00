//! Inpatient care: wards and their beds, doctors' requests to admit, admissions and the
//! bed assignments that say where each patient lay. The database decides who is in a bed:
//! one open (non-companion) assignment per bed, one open assignment per admission, one
//! stay in the house per patient — partial unique indexes on both databases.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000022_inpatient"
    }
}

fn uuid(name: &str) -> ColumnDef {
    col(name).uuid().not_null().to_owned()
}

fn uuid_null(name: &str) -> ColumnDef {
    col(name).uuid().null().to_owned()
}

fn version() -> ColumnDef {
    col("version").integer().not_null().default(1).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("wards")
                    .col(id())
                    .col(text("code", 20))
                    .col(text("name", 100))
                    .col(uuid_null("department_id"))
                    .col(uuid_null("store_id"))
                    .col(col("active").boolean().not_null().default(true))
                    .col(version())
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("wards_code_key", "wards", &["code"]).unique().to_owned()).await?;

        manager
            .create_table(
                table("beds")
                    .col(id())
                    .col(uuid("ward_id"))
                    .col(text("room", 20))
                    .col(text("label", 20))
                    .col(text("bed_type", 16))
                    .col(col("tags").string_len(100).not_null().default(""))
                    .col(text_null("service_code", 20))
                    .col(text("state", 12))
                    .col(text_null("state_reason", 300))
                    .col(uuid_null("reserved_for"))
                    .col(col("active").boolean().not_null().default(true))
                    .col(version())
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("beds_ward_label_key", "beds", &["ward_id", "label"]).unique().to_owned())
            .await?;
        manager.create_index(index("beds_state_idx", "beds", &["state", "bed_type"])).await?;

        manager
            .create_table(
                table("admission_requests")
                    .col(id())
                    .col(uuid("patient_id"))
                    .col(uuid_null("encounter_id"))
                    .col(uuid("requested_by"))
                    .col(text("reason", 500))
                    .col(uuid_null("ward_id"))
                    .col(text_null("bed_type", 16))
                    .col(col("expected_days").integer().null())
                    .col(col("expected_on").date().null())
                    .col(text("status", 12))
                    .col(text_null("cancel_reason", 300))
                    .col(uuid_null("admission_id"))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .col(version())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "admission_requests_status_idx",
                "admission_requests",
                &["status", "created_at"],
            ))
            .await?;
        manager
            .create_index(index("admission_requests_patient_idx", "admission_requests", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("admissions")
                    .col(id())
                    .col(text("number", 20))
                    .col(uuid("patient_id"))
                    .col(uuid_null("request_id"))
                    .col(uuid("encounter_id"))
                    .col(uuid("attending_id"))
                    .col(text("diagnosis", 300))
                    .col(uuid("ward_id"))
                    .col(uuid("bed_id"))
                    .col(text("status", 20))
                    .col(uuid("admitted_by"))
                    .col(at("admitted_at"))
                    .col(uuid_null("discharge_ordered_by"))
                    .col(at_null("discharge_ordered_at"))
                    .col(uuid_null("discharged_by"))
                    .col(at_null("discharged_at"))
                    .col(text_null("disposition", 100))
                    .col(version())
                    .col(at("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("admissions_number_key", "admissions", &["number"]).unique().to_owned())
            .await?;
        manager.create_index(index("admissions_ward_idx", "admissions", &["ward_id", "status"])).await?;
        manager
            .create_index(index("admissions_patient_idx", "admissions", &["patient_id", "admitted_at"]))
            .await?;

        manager
            .create_table(
                table("bed_assignments")
                    .col(id())
                    .col(uuid("admission_id"))
                    .col(uuid("patient_id"))
                    .col(uuid("bed_id"))
                    .col(uuid("ward_id"))
                    .col(col("companion").boolean().not_null().default(false))
                    .col(at("started_at"))
                    .col(uuid("started_by"))
                    .col(at_null("ended_at"))
                    .col(uuid_null("ended_by"))
                    .col(text("reason", 20))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "bed_assignments_admission_idx",
                "bed_assignments",
                &["admission_id", "started_at"],
            ))
            .await?;
        manager
            .create_index(index("bed_assignments_patient_idx", "bed_assignments", &["patient_id"]))
            .await?;
        let conn = manager.get_connection();
        // One patient per bed (a companion shares it without taking it), one bed per
        // stay, one stay in the house per patient: decided here, not by an earlier look.
        for sql in [
            "CREATE UNIQUE INDEX bed_assignments_bed_key ON bed_assignments (bed_id) \
             WHERE ended_at IS NULL AND NOT companion",
            "CREATE UNIQUE INDEX bed_assignments_open_key ON bed_assignments (admission_id) \
             WHERE ended_at IS NULL",
            "CREATE UNIQUE INDEX admissions_in_house_key ON admissions (patient_id) \
             WHERE status <> 'discharged'",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["bed_assignments", "admissions", "admission_requests", "beds", "wards"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
