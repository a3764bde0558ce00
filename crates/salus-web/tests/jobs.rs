//! The job queue shared by two instances: every job runs once, none twice, even with
//! several workers in each instance claiming at the same time; a job whose worker died is
//! taken back when its lease runs out. On SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::Utc;
use serde_json::json;

db_test!(two_instances_share_the_queue_without_running_a_job_twice, |t| {
    let other = t.second_instance().await;
    let total = 300;
    let txn = t.app.db.begin_write().await.unwrap();
    for i in 0..total {
        salus_db::jobs::enqueue(&txn, salus_app::jobs::new_job("noop", json!({ "n": i }), Utc::now()))
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    let mut workers = Vec::new();
    for (n, app) in
        [t.app.clone(), t.app.clone(), other.app.clone(), other.app.clone()].into_iter().enumerate()
    {
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let pass = app.jobs().run_due_jobs(&format!("w{n}"), 7).await.unwrap();
                if pass.claimed == 0 {
                    return done;
                }
                done += pass.done;
            }
        }));
    }
    let mut done = 0;
    for w in workers {
        done += w.await.unwrap();
    }
    assert_eq!(done, total, "every job done once");
    let db = t.app.db.reader();
    assert_eq!(
        salus_db::jobs::count_by_status(db, salus_core::jobs::JobStatus::Done).await.unwrap(),
        total as u64
    );
    let twice = salus_db::jobs::by_status(db, salus_core::jobs::JobStatus::Done, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.attempts != 1)
        .count();
    assert_eq!(twice, 0, "no job claimed twice");
});

db_test!(a_dead_workers_lease_runs_out_and_the_job_is_taken_back, |t| {
    let txn = t.app.db.begin_write().await.unwrap();
    salus_db::jobs::enqueue(&txn, salus_app::jobs::new_job("noop", json!({}), Utc::now())).await.unwrap();
    // A worker claims it with a lease that has already run out, then "dies".
    let past = Utc::now() - chrono::Duration::seconds(1);
    let claimed = salus_db::jobs::claim(&txn, "dead-worker", Utc::now(), past, 10).await.unwrap();
    txn.commit().await.unwrap();
    assert_eq!(claimed.len(), 1);
    let pass = t.app.jobs().run_due_jobs("survivor", 10).await.unwrap();
    assert_eq!((pass.claimed, pass.done), (1, 1));
    // The dead worker's late "done" changes nothing: the job is no longer its own.
    let txn = t.app.db.begin_write().await.unwrap();
    assert!(!salus_db::jobs::complete(&txn, claimed[0].id, "dead-worker", Utc::now()).await.unwrap());
    txn.commit().await.unwrap();
});
