//! The medication administration record: doctors' inpatient medication orders and what
//! nurses recorded of each dose. One record in force per dose of an order — a partial
//! unique index on both databases — so the same dose recorded twice, from two screens at
//! once, is refused by the database; a correction retires the record it amends and
//! writes a new one, so nothing is ever deleted. A ward gains its on-time window.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000023_medication_administration"
    }
}

fn uuid(name: &str) -> ColumnDef {
    col(name).uuid().not_null().to_owned()
}

fn uuid_null(name: &str) -> ColumnDef {
    col(name).uuid().null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("wards"))
                    .add_column(col("late_minutes").integer().not_null().default(60))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("medication_orders")
                    .col(id())
                    .col(uuid("patient_id"))
                    .col(uuid("admission_id"))
                    .col(uuid("medicine_id"))
                    .col(text("medicine_name", 200))
                    .col(uuid_null("item_id"))
                    .col(text("dose", 60))
                    .col(col("units_per_dose").integer().not_null())
                    .col(text("route", 40))
                    .col(text("kind", 12))
                    .col(text("times", 200))
                    .col(text_null("instructions", 500))
                    .col(at("starts_at"))
                    .col(at_null("ends_at"))
                    .col(text("status", 10))
                    .col(text_null("stop_reason", 300))
                    .col(uuid_null("stopped_by"))
                    .col(at_null("stopped_at"))
                    .col(uuid("ordered_by"))
                    .col(at("created_at"))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("medication_orders_admission_idx", "medication_orders", &["admission_id"]))
            .await?;
        manager
            .create_index(index("medication_orders_patient_idx", "medication_orders", &["patient_id"]))
            .await?;
        manager
            .create_table(
                table("medication_administrations")
                    .col(id())
                    .col(uuid("order_id"))
                    .col(uuid("patient_id"))
                    .col(uuid("admission_id"))
                    .col(at_null("due_at"))
                    .col(text("outcome", 10))
                    .col(text_null("reason", 300))
                    .col(at("given_at"))
                    .col(col("late").boolean().not_null().default(false))
                    .col(uuid_null("store_id"))
                    .col(uuid_null("amends_id"))
                    .col(text_null("amend_reason", 300))
                    .col(col("current").boolean().not_null().default(true))
                    .col(col("needs_ack").boolean().not_null().default(false))
                    .col(uuid_null("acknowledged_by"))
                    .col(at_null("acknowledged_at"))
                    .col(uuid("recorded_by"))
                    .col(at("recorded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "medication_administrations_order_idx",
                "medication_administrations",
                &["order_id", "given_at"],
            ))
            .await?;
        manager
            .create_index(index(
                "medication_administrations_admission_idx",
                "medication_administrations",
                &["admission_id"],
            ))
            .await?;
        manager
            .create_index(index(
                "medication_administrations_patient_idx",
                "medication_administrations",
                &["patient_id"],
            ))
            .await?;
        let conn = manager.get_connection();
        // One record in force per dose; an amendment may retire it once.
        for sql in [
            "CREATE UNIQUE INDEX medication_administrations_dose_key ON medication_administrations \
             (order_id, due_at) WHERE current AND due_at IS NOT NULL",
            "CREATE UNIQUE INDEX medication_administrations_amends_key ON medication_administrations \
             (amends_id) WHERE amends_id IS NOT NULL",
        ] {
            conn.execute_unprepared(sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["medication_administrations", "medication_orders"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter().table(Alias::new("wards")).drop_column(Alias::new("late_minutes")).to_owned(),
            )
            .await
    }
}
