//! Attachments kept in an S3-compatible bucket: uploaded through one instance, in the
//! bucket under their SHA-256, downloaded through another instance, on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::s3::S3Server;
use common::ward::{send, upload, ward};
use common::{Backend, TestApp};
use salus_app::files::{FileStore, S3Settings};

async fn round_trip(backend: Backend) {
    let Some(s3) = S3Server::start().await else { return };
    let bucket = s3.bucket().await;
    let settings = S3Settings {
        endpoint: Some(s3.endpoint.clone()),
        access_key_id: Some("salus-test".into()),
        secret_access_key: Some("salus-test-secret".into()),
        ..S3Settings::from_url(&format!("s3://{bucket}/records/")).unwrap()
    };
    let files = FileStore::s3(&settings).unwrap();
    files.check().await.unwrap();
    let Some(t) = TestApp::start_with_files(backend, files).await else { return };
    let w = ward(&t).await;
    let path = format!("/api/v1/patients/{}/attachments", w.patient);
    let scan = [b"\x89PNG\r\n\x1a\n".as_slice(), &[7u8; 4096]].concat();
    let (status, a) = upload(&t, &w.nurse, &format!("{path}?filename=scan.png"), scan.clone()).await;
    assert_eq!(status, 201, "{a}");
    let sha = a["sha256"].as_str().unwrap();
    let key = format!("records/{}/{sha}", &sha[..2]);
    let stored = s3.object(&bucket, &key).await;
    assert!(stored.as_ref() == Some(&scan), "the bytes are in the bucket at {key}");

    // Another instance (another server behind the load balancer) serves the same file.
    let other = t.second_instance().await;
    let download = format!("/api/v1/attachments/{}", a["id"].as_str().unwrap());
    let res = w.doc.client.get(other.url(&download)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.bytes().await.unwrap().to_vec() == scan, "the same bytes");

    // A file the bucket lost is a clear server error, not someone else's bytes.
    s3.delete(&bucket, &key).await;
    let (status, _) = send(&t, &w.doc, "GET", &download, None, None).await;
    assert_eq!(status, 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    round_trip(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    round_trip(Backend::Postgres).await;
}

/// A bucket that is not there stops the server at start-up with the reason.
#[tokio::test]
async fn a_missing_bucket_is_reported() {
    let Some(s3) = S3Server::start().await else { return };
    let settings = S3Settings {
        endpoint: Some(s3.endpoint.clone()),
        access_key_id: Some("k".into()),
        secret_access_key: Some("s".into()),
        ..S3Settings::from_url("s3://no-such-bucket").unwrap()
    };
    let e = FileStore::s3(&settings).unwrap().check().await.unwrap_err();
    assert!(e.contains("no-such-bucket"), "{e}");
}
