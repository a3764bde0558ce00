//! Counting the wards, on SQLite and PostgreSQL: the midnight census and the register
//! through the API, and bed days charged once each — every night and at discharge, by the
//! bed the patient lay in at each midnight, never twice however often the night's run
//! goes (hmis#19760: charges missing from inpatient bills).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::{Duration, Utc};
use common::ward::*;
use salus_core::Role;
use salus_db::entity::{admission, bed_assignment};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

db_test!(the_census_counts_and_bed_days_are_charged_once, |t| {
    let w = ward(&t).await;
    let admin = who(&t, "cn.admin", &[Role::Admin]).await;
    let service =
        json!({"code": "BED-GEN", "name": "Bed day, general", "category": "bed_day", "price_minor": 120000});
    assert_eq!(send(&t, &admin, "POST", "/api/v1/services", Some(service), None).await.0, 201);
    let (_, ward) =
        send(&t, &admin, "POST", "/api/v1/wards", Some(json!({"code": "C", "name": "Census ward"})), None)
            .await;
    let ward = ward["id"].as_str().unwrap().to_owned();
    let body =
        json!({"room": "1", "letters": ["A", "B", "C"], "bed_type": "general", "service_code": "NOPE"});
    let (status, e) = send(&t, &admin, "POST", &format!("/api/v1/wards/{ward}/beds"), Some(body), None).await;
    assert_eq!((status, fields(&e)), (422, vec!["service_code".to_owned()]), "{e}");
    let body =
        json!({"room": "1", "letters": ["A", "B", "C"], "bed_type": "general", "service_code": "bed-gen"});
    let (status, beds) =
        send(&t, &admin, "POST", &format!("/api/v1/wards/{ward}/beds"), Some(body), None).await;
    assert_eq!((status, beds[0]["service_code"].as_str()), (201, Some("BED-GEN")), "{beds}");
    let me: Value = w.doc.client.get(t.url("/api/v1/me")).send().await.unwrap().json().await.unwrap();
    let body = json!({"patient_id": w.patient, "bed_id": beds[0]["id"], "attending_id": me["id"], "diagnosis": "Pneumonia"});
    let (status, a) = send(&t, &w.desk, "POST", "/api/v1/admissions", Some(body), None).await;
    assert_eq!(status, 201, "{a}");
    let stay: uuid::Uuid = a["id"].as_str().unwrap().parse().unwrap();
    let (status, _) = send(
        &t,
        &w.desk,
        "POST",
        &format!("/api/v1/beds/{}/state", beds[2]["id"].as_str().unwrap()),
        Some(json!({"state": "blocked", "reason": "Broken rail"})),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // An open board hears of a change made elsewhere (a bed blocked by the desk), the
    // database being what its stream watches.
    let mut stream = w.nurse.client.get(t.url(&format!("/wards/{ward}/events"))).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (status, _) = send(
        &t,
        &w.desk,
        "POST",
        &format!("/api/v1/beds/{}/state", beds[1]["id"].as_str().unwrap()),
        Some(json!({"state": "blocked", "reason": "Leaking oxygen point"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let heard = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        let mut got = String::new();
        while let Some(chunk) = stream.chunk().await.unwrap() {
            got.push_str(&String::from_utf8_lossy(&chunk));
            if got.contains("event: board") {
                return got;
            }
        }
        got
    })
    .await
    .expect("the board event within ten seconds");
    assert!(heard.contains("event: board") && !heard.contains("Anand"), "{heard}");
    drop(stream);
    let (status, _) = send(
        &t,
        &w.desk,
        "POST",
        &format!("/api/v1/beds/{}/state", beds[1]["id"].as_str().unwrap()),
        Some(json!({"state": "available"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        w.desk
            .client
            .get(t.url(&format!("/wards/{}/events", uuid::Uuid::now_v7())))
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "no such ward"
    );

    // Today's census: one patient at midnight of three beds, one blocked: 50 % of two.
    let today = Utc::now().with_timezone(&t.app.time_zone).date_naive();
    let (status, c) = send(&t, &w.nurse, "GET", &format!("/api/v1/census?day={today}"), None, None).await;
    assert_eq!(status, 200, "{c}");
    let line = c["wards"].as_array().unwrap().iter().find(|x| x["ward"]["id"] == ward.as_str()).unwrap();
    assert_eq!(
        (
            line["at_midnight"].as_u64(),
            line["usable_beds"].as_u64(),
            line["blocked_beds"].as_u64(),
            line["admitted"].as_u64()
        ),
        (Some(1), Some(2), Some(1), Some(1)),
        "{line}"
    );
    assert_eq!(line["occupancy_percent"].as_f64(), Some(50.0));
    let pharm = who(&t, "cn.pharm", &[Role::Pharmacist]).await;
    assert_eq!(send(&t, &pharm, "GET", "/api/v1/census", None, None).await.0, 403);

    // The stay began three days ago (moved back in time, as if admitted then).
    let back = Duration::days(3);
    let db = t.app.db.writer();
    admission::Entity::update_many()
        .col_expr(admission::Column::AdmittedAt, Expr::value(Utc::now() - back))
        .filter(admission::Column::Id.eq(stay))
        .exec(db)
        .await
        .unwrap();
    bed_assignment::Entity::update_many()
        .col_expr(bed_assignment::Column::StartedAt, Expr::value(Utc::now() - back))
        .filter(bed_assignment::Column::AdmissionId.eq(stay))
        .exec(db)
        .await
        .unwrap();
    let bed_days = || async {
        salus_db::charges::charges_of(t.app.db.reader(), w.patient.parse().unwrap())
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.source_type == "bed_day")
            .collect::<Vec<_>>()
    };
    // The night's run, twice: three midnights, charged once.
    let yesterday = today.pred_opt().unwrap();
    t.app.inpatient().nightly_bed_days(yesterday).await.unwrap();
    t.app.inpatient().nightly_bed_days(yesterday).await.unwrap();
    let charged = bed_days().await;
    assert_eq!(charged.len(), 3, "{charged:?}");
    assert!(
        charged.iter().all(|c| c.unit_price_minor == 120000 && c.description.contains("1-A")),
        "{charged:?}"
    );

    // The pages: the census for the ward's staff, the doctor's own list.
    let page = html(&t, &w.nurse, &format!("/wards/census?day={today}")).await;
    assert!(page.contains("Census ward") && page.contains("50 %"), "{page}");
    let mine = html(&t, &w.doc, "/inpatients").await;
    assert!(mine.contains("Anand Pillai") && mine.contains("1-A"), "{mine}");
    assert!(!html(&t, &w.doc2, "/inpatients").await.contains("Anand Pillai"), "another doctor's patient");
    assert_eq!(w.nurse.client.get(t.url("/inpatients")).send().await.unwrap().status(), 403);

    // Discharged today: the midnight rule charges no day of discharge, and nothing twice.
    let a = stay.to_string();
    assert_eq!(
        send(&t, &w.doc, "POST", &format!("/api/v1/admissions/{a}/discharge-order"), None, None).await.0,
        200
    );
    let (status, _) = send(
        &t,
        &w.desk,
        "POST",
        &format!("/api/v1/admissions/{a}/discharge"),
        Some(json!({"disposition": "home"})),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(bed_days().await.len(), 3);

    // The register: the stay, its four days counting the first, the average stay.
    let (status, r) = send(
        &t,
        &w.nurse,
        "GET",
        &format!("/api/v1/admission-register?from={}&to={today}", today - back),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["rows"][0]["days"].as_i64(), r["average_stay_days"].as_f64()), (Some(4), Some(4.0)), "{r}");
    let (status, _) = send(
        &t,
        &w.nurse,
        "GET",
        &format!("/api/v1/admission-register?from={today}&to={}", today - back),
        None,
        None,
    )
    .await;
    assert_eq!(status, 422);
});
