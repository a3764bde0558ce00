//! ICD-10-CM search latency: the in-memory index answers by code prefix or words; no
//! database is involved, so both backends see the same figures.
//!
//!   cargo bench -p salus-app --bench icd
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use salus_app::clinical::icd::IcdCatalog;

fn main() {
    let started = Instant::now();
    let catalog = IcdCatalog::get();
    println!(
        "ICD-10-CM: {} codes decompressed and indexed in {:.0} ms",
        catalog.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let queries = [
        "diab type 2",
        "E11",
        "e11.6",
        "hypertens",
        "asthma",
        "fracture femur right",
        "malaria falciparum",
        "pneumonia",
        "chronic kidney disease stage 3",
        "J45.909",
        "tuberc",
        "preg",
        "fever",
        "a",
        "s72.001",
        "cough",
        "migraine without aura",
        "iron deficiency anemia",
        "gastroenteritis",
        "z00",
    ];
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..100 {
        for q in queries {
            let t = Instant::now();
            let hits = catalog.search(q, 20, false);
            times.push(t.elapsed());
            std::hint::black_box(hits);
        }
    }
    times.sort();
    let p = |f: f64| times[((times.len() as f64 - 1.0) * f).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "  search, {} queries of {} kinds: p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
        times.len(),
        queries.len(),
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
