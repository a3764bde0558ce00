//! Each route's statement budget: the SQL statements a typical request runs, counted at
//! the connection (every statement SeaORM sends, reads and writes, read-audit commits
//! included). A new statement on a hot path is a decision: change the figure here, and
//! say why in the commit. Requests run one at a time, so the count is the request's own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::ward::*;
use serde_json::json;

db_test!(typical_requests_keep_their_statement_budgets, |t| {
    let w = ward(&t).await;
    let enc = open(&t, &w).await;
    let allergy = json!({"substance": "Penicillin", "reaction": "Anaphylaxis", "severity": "severe"});
    let (status, _) = send(
        &t,
        &w.doc,
        "POST",
        &format!("/api/v1/patients/{}/allergies", w.patient),
        Some(allergy.clone()),
        None,
    )
    .await;
    assert_eq!(status, 201);

    let p = &w.patient;
    let requests: Vec<(&Who, &str, String, Option<serde_json::Value>)> = vec![
        (&w.doc, "GET", "/api/v1/me".into(), None),
        (&w.doc, "GET", format!("/api/v1/patients/{p}"), None),
        (&w.doc, "GET", "/api/v1/patients?q=Pillai".into(), None),
        (&w.doc, "GET", format!("/api/v1/patients/{p}/allergies"), None),
        (
            &w.doc,
            "POST",
            format!("/api/v1/patients/{p}/allergies"),
            Some(json!({"substance": "Latex", "severity": "mild"})),
        ),
        (&w.doc, "GET", format!("/patients/{p}"), None),
        (&w.doc, "GET", format!("/encounters/{enc}"), None),
        (
            &w.desk,
            "POST",
            "/api/v1/patients".into(),
            Some(json!({"given_names": "Meera", "family_name": "Iyer", "sex": "female",
                "birth_date": "1991-04-12", "phone": "+91 98450 12345"})),
        ),
    ];
    let mut measured = Vec::new();
    for (who, method, path, body) in &requests {
        let before = t.app.db.statements();
        let (status, out) = send(&t, who, method, path, body.clone(), None).await;
        assert!(status < 300, "{method} {path}: {status} {out}");
        measured.push((format!("{method} {path}"), t.app.db.statements() - before));
    }
    // The same on SQLite and PostgreSQL. A signed-in request's one statement is the look at
    // the revocation log (the session itself comes from the cache, and under load one look
    // serves many requests). A record read is the record with its identifiers and photo in
    // one statement, then the read-audit commit. A name search walks the name keys, looks
    // for the words inside names and for sound-alikes (a rare name: few strong matches),
    // then loads the page's records with their identifiers in one statement. The chart is demographics, the clinical
    // summary, appointments and the timeline; the encounter page one use case (one access
    // check, its sections side by side, one audit commit for the reads it shows).
    //
    // Registering (duplicate check on, no look-alike found): the look, the identifier
    // types, the duplicate check's lookups (phone; the names with the birth date) and
    // their rows, then one write transaction — the MRN in one upsert, the record, its
    // search keys, the timeline and the audit event. SQLite indexes the names in its FTS5
    // table (one insert more); PostgreSQL's trigram index reads the record itself.
    let register = if t.app.db.backend() == salus_db::Backend::Sqlite { 11 } else { 10 };
    let budgets: Vec<u64> = vec![1, 4, 7, 6, 8, 18, 16, register];
    for ((what, n), budget) in measured.iter().zip(&budgets) {
        println!("{what}: {n} statements (budget {budget})");
    }
    let got: Vec<u64> = measured.iter().map(|(_, n)| *n).collect();
    assert_eq!(got, budgets, "{measured:#?}");
});
