//! The laboratory: a test catalog (analytes and panels, LOINC, UCUM units, specimen and
//! container, the price-list service each is billed as) seeded from
//! `data/laboratory/tests.tsv`, reference ranges by sex and age in days from
//! `ranges.tsv` (each saying where it comes from; a site confirms them), orders, specimens
//! with gapless accession numbers, versioned results whose verifier the database holds
//! different from their author, critical-value alerts, and the unbilled charges that
//! collecting a specimen records once per order line.

use sea_orm_migration::prelude::*;
use std::collections::HashMap;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000017_laboratory"
    }
}

static TESTS: &str = include_str!("../../../../data/laboratory/tests.tsv");
static RANGES: &str = include_str!("../../../../data/laboratory/ranges.tsv");

/// How far (percent) a result may move from the patient's previous one before the delta
/// check asks the technician to look again: values a lab's QC manual commonly uses.
const DELTA_PERCENT: &[(&str, f64)] = &[
    ("HB", 20.0),
    ("HCT", 20.0),
    ("MCV", 10.0),
    ("PLT", 50.0),
    ("WBC", 50.0),
    ("NA", 8.0),
    ("K", 20.0),
    ("CL", 10.0),
    ("CREAT", 50.0),
    ("UREA", 50.0),
    ("CA", 20.0),
    ("TBIL", 50.0),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("lab_tests")
                    .col(id())
                    .col(text("code", 16))
                    .col(text("name", 200))
                    .col(text("kind", 10))
                    .col(text_null("loinc", 10))
                    .col(text("section", 40))
                    .col(text("specimen", 40))
                    .col(text("container", 80))
                    .col(text_null("unit", 40))
                    .col(text_null("result_type", 10))
                    .col(col("decimals").integer().not_null().default(0))
                    .col(text_null("method", 120))
                    .col(col("turnaround_minutes").integer().not_null())
                    .col(text_null("service_code", 40))
                    .col(text_null("formula", 40))
                    .col(text_null("answers", 400))
                    .col(num("delta_percent"))
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("version").integer().not_null().default(1))
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .check(Expr::col(Alias::new("turnaround_minutes")).gt(0))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("lab_tests_code_key", "lab_tests", &["code"]).unique().to_owned()).await?;
        manager
            .create_table(
                table("lab_panel_members")
                    .col(col("panel_id").uuid().not_null())
                    .col(col("member_id").uuid().not_null())
                    .col(col("position").integer().not_null())
                    .primary_key(Index::create().col(Alias::new("panel_id")).col(Alias::new("member_id")))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("lab_reference_ranges")
                    .col(id())
                    .col(col("test_id").uuid().not_null())
                    .col(text("sex", 10))
                    .col(col("age_from_days").integer().not_null())
                    .col(col("age_to_days").integer().null())
                    .col(num("low"))
                    .col(num("high"))
                    .col(num("critical_low"))
                    .col(num("critical_high"))
                    .col(num("valid_low"))
                    .col(num("valid_high"))
                    .col(text("source", 300))
                    .col(at("created_at"))
                    .check(
                        Expr::col(Alias::new("age_to_days"))
                            .is_null()
                            .or(Expr::col(Alias::new("age_to_days"))
                                .gt(Expr::col(Alias::new("age_from_days")))),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("lab_reference_ranges_test_idx", "lab_reference_ranges", &["test_id"]))
            .await?;

        manager
            .create_table(
                table("lab_orders")
                    .col(id())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("encounter_id").uuid().null())
                    .col(col("requisition_id").uuid().not_null())
                    .col(col("ordered_by").uuid().not_null())
                    .col(col("test_id").uuid().not_null())
                    .col(text("test_name", 200))
                    .col(text("priority", 10))
                    .col(text_null("clinical_info", 500))
                    .col(text("status", 12))
                    .col(text_null("cancel_reason", 300))
                    .col(col("specimen_id").uuid().null())
                    .col(col("service_id").uuid().null())
                    .col(at("created_at"))
                    .col(at("updated_at"))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("lab_orders_patient_idx", "lab_orders", &["patient_id", "created_at"]))
            .await?;
        manager.create_index(index("lab_orders_status_idx", "lab_orders", &["status", "created_at"])).await?;
        manager.create_index(index("lab_orders_specimen_idx", "lab_orders", &["specimen_id"])).await?;

        manager
            .create_table(
                table("lab_specimens")
                    .col(id())
                    .col(col("patient_id").uuid().not_null())
                    .col(text("accession", 20))
                    .col(text("specimen", 40))
                    .col(text("container", 80))
                    .col(text("status", 10))
                    .col(col("collected_by").uuid().not_null())
                    .col(at("collected_at"))
                    .col(col("received_by").uuid().null())
                    .col(at_null("received_at"))
                    .col(text_null("reject_reason", 20))
                    .col(text_null("reject_note", 300))
                    .col(col("version").integer().not_null().default(1))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("lab_specimens_accession_key", "lab_specimens", &["accession"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("lab_specimens_patient_idx", "lab_specimens", &["patient_id"])).await?;
        manager
            .create_table(
                table("lab_accession_sequences")
                    .col(text("series", 8).primary_key())
                    .col(col("last").big_integer().not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                table("lab_results")
                    .col(id())
                    .col(col("order_id").uuid().not_null())
                    .col(col("specimen_id").uuid().not_null())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("test_id").uuid().not_null())
                    .col(text("analyte", 200))
                    .col(text_null("loinc", 10))
                    .col(col("revision").integer().not_null())
                    .col(text("status", 12))
                    .col(num("value_num"))
                    .col(text_null("value_text", 2000))
                    .col(text_null("unit", 40))
                    .col(col("decimals").integer().not_null())
                    .col(text_null("flag", 2))
                    .col(num("ref_low"))
                    .col(num("ref_high"))
                    .col(num("critical_low"))
                    .col(num("critical_high"))
                    .col(text_null("range_text", 100))
                    .col(num("delta_percent"))
                    .col(col("calculated").boolean().not_null())
                    .col(at("collected_at"))
                    .col(col("entered_by").uuid().not_null())
                    .col(at("entered_at"))
                    .col(col("verified_by").uuid().null())
                    .col(at_null("verified_at"))
                    .col(text_null("amend_reason", 300))
                    .col(at_null("superseded_at"))
                    .col(col("reviewed_by").uuid().null())
                    .col(at_null("reviewed_at"))
                    .col(col("version").integer().not_null().default(1))
                    // A second person verifies: no setting, no code path can make the
                    // author their own verifier.
                    .check(
                        Expr::col(Alias::new("verified_by"))
                            .is_null()
                            .or(Expr::col(Alias::new("verified_by")).ne(Expr::col(Alias::new("entered_by")))),
                    )
                    .check(
                        Expr::col(Alias::new("value_num"))
                            .is_not_null()
                            .or(Expr::col(Alias::new("value_text")).is_not_null()),
                    )
                    .to_owned(),
            )
            .await?;
        // One current version per order line and analyte (the superseded ones stay readable).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX lab_results_current_key ON lab_results (order_id, test_id) \
                 WHERE superseded_at IS NULL",
            )
            .await?;
        manager
            .create_index(index(
                "lab_results_patient_idx",
                "lab_results",
                &["patient_id", "test_id", "collected_at"],
            ))
            .await?;
        manager.create_index(index("lab_results_order_idx", "lab_results", &["order_id"])).await?;

        manager
            .create_table(
                table("lab_critical_alerts")
                    .col(id())
                    .col(col("result_id").uuid().not_null())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("notify_user_id").uuid().not_null())
                    .col(text("summary", 300))
                    .col(at("created_at"))
                    .col(at("escalate_at"))
                    .col(at_null("escalated_at"))
                    .col(text_null("escalated_to", 300))
                    .col(col("acknowledged_by").uuid().null())
                    .col(at_null("acknowledged_at"))
                    .col(text_null("read_back", 300))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("lab_critical_alerts_result_key", "lab_critical_alerts", &["result_id"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "lab_critical_alerts_open_idx",
                "lab_critical_alerts",
                &["acknowledged_at", "escalate_at"],
            ))
            .await?;
        manager
            .create_index(index("lab_critical_alerts_patient_idx", "lab_critical_alerts", &["patient_id"]))
            .await?;

        // Charges: what was done for a patient that is to be billed, one per source.
        manager
            .create_table(
                table("charges")
                    .col(id())
                    .col(col("patient_id").uuid().not_null())
                    .col(col("service_id").uuid().not_null())
                    .col(text("service_code", 40))
                    .col(text("description", 200))
                    .col(col("quantity").integer().not_null())
                    .col(col("unit_price_minor").big_integer().not_null())
                    .col(col("tax_rate_bp").integer().not_null())
                    .col(text("source_type", 40))
                    .col(col("source_id").uuid().not_null())
                    .col(text("status", 12))
                    .col(col("created_by").uuid().not_null())
                    .col(at("created_at"))
                    .check(Expr::col(Alias::new("quantity")).gt(0))
                    .check(Expr::col(Alias::new("unit_price_minor")).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("charges_source_key", "charges", &["source_type", "source_id"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("charges_patient_idx", "charges", &["patient_id", "status"])).await?;

        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "charges",
            "lab_critical_alerts",
            "lab_results",
            "lab_accession_sequences",
            "lab_specimens",
            "lab_orders",
            "lab_reference_ranges",
            "lab_panel_members",
            "lab_tests",
        ] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now = chrono::Utc::now();
    let mut ids: HashMap<&str, uuid::Uuid> = HashMap::new();
    let cols = [
        "id",
        "code",
        "name",
        "kind",
        "loinc",
        "section",
        "specimen",
        "container",
        "unit",
        "result_type",
        "decimals",
        "method",
        "turnaround_minutes",
        "service_code",
        "formula",
        "answers",
        "delta_percent",
        "created_at",
        "updated_at",
    ];
    let mut insert =
        Query::insert().into_table(Alias::new("lab_tests")).columns(cols.map(Alias::new)).to_owned();
    let mut members = Vec::new();
    for f in rows(TESTS) {
        let [
            code,
            name,
            kind,
            loinc,
            section,
            specimen,
            container,
            unit,
            result_type,
            decimals,
            method,
            tat,
            service,
            formula,
            answers,
            panel,
        ] = f[..]
        else {
            return Err(DbErr::Migration(format!("bad test line: {f:?}")));
        };
        let id = uuid::Uuid::now_v7();
        ids.insert(code, id);
        let delta = DELTA_PERCENT.iter().find(|(c, _)| *c == code).map(|(_, d)| *d);
        let decimals: i32 = decimals.trim().parse().unwrap_or(0);
        let tat: i32 = tat.trim().parse().map_err(|_| DbErr::Migration(format!("bad turnaround: {f:?}")))?;
        insert.values_panic([
            id.into(),
            code.into(),
            name.into(),
            kind.into(),
            opt(loinc).into(),
            section.into(),
            specimen.into(),
            container.into(),
            opt(unit).into(),
            opt(result_type).into(),
            decimals.into(),
            opt(method).into(),
            tat.into(),
            opt(service).into(),
            opt(formula).into(),
            opt(answers).into(),
            delta.into(),
            now.into(),
            now.into(),
        ]);
        if kind == "panel" {
            members.push((id, panel));
        }
    }
    manager.exec_stmt(insert).await?;

    let mut insert = Query::insert()
        .into_table(Alias::new("lab_panel_members"))
        .columns(["panel_id", "member_id", "position"].map(Alias::new))
        .to_owned();
    for (panel, list) in members {
        for (n, code) in list.split(',').map(str::trim).enumerate() {
            let member =
                ids.get(code).ok_or_else(|| DbErr::Migration(format!("unknown panel member {code}")))?;
            insert.values_panic([panel.into(), (*member).into(), (n as i32).into()]);
        }
    }
    manager.exec_stmt(insert).await?;

    let cols = [
        "id",
        "test_id",
        "sex",
        "age_from_days",
        "age_to_days",
        "low",
        "high",
        "critical_low",
        "critical_high",
        "valid_low",
        "valid_high",
        "source",
        "created_at",
    ];
    let mut insert = Query::insert()
        .into_table(Alias::new("lab_reference_ranges"))
        .columns(cols.map(Alias::new))
        .to_owned();
    for f in rows(RANGES) {
        let [code, sex, from, to, low, high, cl, ch, vl, vh, source] = f[..] else {
            return Err(DbErr::Migration(format!("bad range line: {f:?}")));
        };
        let test = ids.get(code).ok_or_else(|| DbErr::Migration(format!("range of unknown test {code}")))?;
        let from: i32 = from.trim().parse().map_err(|_| DbErr::Migration(format!("bad age: {f:?}")))?;
        let to: Option<i32> = number(to, &f)?.map(|d| d as i32);
        insert.values_panic([
            uuid::Uuid::now_v7().into(),
            (*test).into(),
            sex.into(),
            from.into(),
            to.into(),
            number(low, &f)?.into(),
            number(high, &f)?.into(),
            number(cl, &f)?.into(),
            number(ch, &f)?.into(),
            number(vl, &f)?.into(),
            number(vh, &f)?.into(),
            source.into(),
            now.into(),
        ]);
    }
    manager.exec_stmt(insert).await
}
