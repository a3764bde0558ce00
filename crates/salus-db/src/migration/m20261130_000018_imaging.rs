//! Imaging: a procedure catalog (modality, body part, whether a side must be named, the
//! price-list service) seeded from `data/imaging/procedures.tsv`, orders carrying the
//! accession number a PACS shares, one room booking per start time, versioned reports of
//! which one is current, and the images and PDFs of a study (rows of `attachments`).

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000018_imaging"
    }
}

static PROCEDURES: &str = include_str!("../../../../data/imaging/procedures.tsv");

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("imaging_procedures")
                    .col(id())
                    .col(text("code", 20))
                    .col(text("name", 200))
                    .col(text("modality", 4))
                    .col(text("body_part", 60))
                    .col(col("laterality_required").boolean().not_null())
                    .col(text_null("loinc", 10))
                    .col(col("duration_minutes").integer().not_null())
                    .col(text_null("preparation", 300))
                    .col(text_null("service_code", 40))
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .check(Expr::col(Alias::new("duration_minutes")).gt(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("imaging_procedures_code_key", "imaging_procedures", &["code"]).unique().to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("imaging_orders")
                    .col(id())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("encounter_id").uuid().null())
                    .col(col("procedure_id").uuid().not_null())
                    .col(text("procedure_name", 200))
                    .col(text("modality", 4))
                    .col(text("body_part", 60))
                    .col(text_null("laterality", 10))
                    .col(text("priority", 10))
                    .col(text("clinical_question", 500))
                    .col(text("status", 12))
                    .col(text("accession", 20))
                    .col(col("ordered_by").uuid().not_null())
                    .col(at_null("scheduled_at"))
                    .col(text_null("room", 60))
                    .col(col("performed_by").uuid().null())
                    .col(at_null("performed_at"))
                    .col(text_null("performed_note", 1000))
                    .col(text_null("cancel_reason", 300))
                    .col(col("service_id").uuid().null())
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("imaging_orders_accession_key", "imaging_orders", &["accession"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "imaging_orders_patient_idx",
                "imaging_orders",
                &["patient_id", "created_at"],
            ))
            .await?;
        manager
            .create_index(index("imaging_orders_status_idx", "imaging_orders", &["status", "created_at"]))
            .await?;
        // A room holds one examination per start time: two desks booking the same minute
        // cannot both win, whatever instance they reach.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX imaging_orders_room_slot_key ON imaging_orders (room, scheduled_at) \
                 WHERE status = 'scheduled'",
            )
            .await?;

        manager
            .create_table(
                table("imaging_reports")
                    .col(id())
                    .col(col("order_id").uuid().not_null())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("revision").integer().not_null())
                    .col(text("status", 12))
                    .col(col("findings").text().not_null())
                    .col(col("impression").text().not_null())
                    .col(col("written_by").uuid().not_null())
                    .col(at("written_at"))
                    .col(col("authorised_by").uuid().null())
                    .col(at_null("authorised_at"))
                    .col(text_null("amend_reason", 300))
                    .col(at_null("superseded_at"))
                    .col(col("reviewed_by").uuid().null())
                    .col(at_null("reviewed_at"))
                    .col(col("version").integer().not_null().default(1))
                    // A released report names who authorised it.
                    .check(
                        Expr::col(Alias::new("status"))
                            .eq("preliminary")
                            .or(Expr::col(Alias::new("authorised_by")).is_not_null()),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX imaging_reports_current_key ON imaging_reports (order_id) \
                 WHERE superseded_at IS NULL",
            )
            .await?;
        manager
            .create_index(index("imaging_reports_order_idx", "imaging_reports", &["order_id", "revision"]))
            .await?;
        manager
            .create_index(index("imaging_reports_patient_idx", "imaging_reports", &["patient_id"]))
            .await?;

        manager
            .create_table(
                table("imaging_images")
                    .col(col("order_id").uuid().not_null())
                    .col(col("attachment_id").uuid().not_null())
                    .col(at("added_at"))
                    .primary_key(Index::create().col(Alias::new("order_id")).col(Alias::new("attachment_id")))
                    .to_owned(),
            )
            .await?;

        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["imaging_images", "imaging_reports", "imaging_orders", "imaging_procedures"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    let cols = [
        "id",
        "code",
        "name",
        "modality",
        "body_part",
        "laterality_required",
        "loinc",
        "duration_minutes",
        "preparation",
        "service_code",
        "created_at",
        "updated_at",
    ];
    let mut insert =
        Query::insert().into_table(Alias::new("imaging_procedures")).columns(cols.map(Alias::new)).to_owned();
    for f in rows(PROCEDURES) {
        let [code, name, modality, body_part, sided, loinc, minutes, preparation, service] = f[..] else {
            return Err(DbErr::Migration(format!("bad procedure line: {f:?}")));
        };
        let minutes: i32 =
            minutes.trim().parse().map_err(|_| DbErr::Migration(format!("bad duration: {f:?}")))?;
        let sided = match sided {
            "yes" => true,
            "no" => false,
            _ => return Err(DbErr::Migration(format!("laterality_required is yes or no: {f:?}"))),
        };
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            code.into(),
            name.into(),
            modality.into(),
            body_part.into(),
            sided.into(),
            opt(loinc).into(),
            minutes.into(),
            opt(preparation).into(),
            opt(service).into(),
            now.into(),
            now.into(),
        ]);
    }
    manager.exec_stmt(insert).await
}
