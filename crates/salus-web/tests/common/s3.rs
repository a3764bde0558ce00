//! A real S3-compatible server for the tests of attachment storage: moto's server
//! (`pip install 'moto[server]'`), started on a free loopback port and stopped on drop.
//! Outside CI a missing moto skips the test with the reason printed; in CI it fails.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use object_store::ObjectStore;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;

pub struct S3Server {
    pub endpoint: String,
    child: Child,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have_moto() -> bool {
    Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl S3Server {
    pub async fn start() -> Option<Self> {
        if !have_moto() {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("python3 -m moto.server is not available; in CI the S3 tests must run");
            }
            eprintln!("SKIPPED on S3: python3 -m moto.server is not available (pip install 'moto[server]')");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { endpoint: format!("http://127.0.0.1:{port}"), child };
        let client = reqwest::Client::new();
        for _ in 0..150 {
            if client.get(&server.endpoint).send().await.is_ok() {
                return Some(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto's S3 server did not answer on {}", server.endpoint);
    }

    /// A new, empty bucket.
    pub async fn bucket(&self) -> String {
        let name = format!("salus-{}", uuid::Uuid::now_v7().simple());
        let res = reqwest::Client::new().put(format!("{}/{name}", self.endpoint)).send().await.unwrap();
        assert!(res.status().is_success(), "creating bucket {name}: {}", res.status());
        name
    }

    /// A client of its own for `bucket` (not Salus's), to look behind Salus's back.
    pub fn direct(&self, bucket: &str) -> AmazonS3 {
        AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region("us-east-1")
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_access_key_id("direct")
            .with_secret_access_key("direct-secret")
            .build()
            .unwrap()
    }

    /// An object's bytes, read straight from the server (not through Salus).
    pub async fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let found = self.direct(bucket).get(&Path::from(key)).await.ok()?;
        Some(found.bytes().await.unwrap().to_vec())
    }

    pub async fn delete(&self, bucket: &str, key: &str) {
        self.direct(bucket).delete(&Path::from(key)).await.unwrap();
    }
}
