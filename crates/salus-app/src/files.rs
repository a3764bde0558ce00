//! Where attachments' bytes live: a folder on disk (the default, `<data_dir>/attachments`)
//! or an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage…) when several instances must
//! see the same files. Objects are named by their SHA-256, so a file is stored once and an
//! object, once written, never changes; the database row is what says who may read it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

use crate::error::AppError;

/// How to reach an S3-compatible bucket.
#[derive(Clone, Debug, Default)]
pub struct S3Settings {
    pub bucket: String,
    /// A folder inside the bucket ("" for its root).
    pub prefix: String,
    /// For stores other than AWS, e.g. `http://127.0.0.1:9000`; unset means AWS.
    pub endpoint: Option<String>,
    pub region: String,
    /// Unset: taken from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` or the instance's role.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl S3Settings {
    /// From `s3://bucket/optional/prefix`.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("attachment storage `{url}` must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("attachment storage `{url}` names no bucket"));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            region: "us-east-1".into(),
            ..Self::default()
        })
    }
}

/// The attachment store. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    described: String,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.described)
    }
}

impl FileStore {
    /// A folder, created if missing. Writes go to a temporary file renamed into place, so
    /// a crash never leaves half a file under a content name.
    pub fn disk(dir: PathBuf) -> Result<Self, String> {
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the attachments folder {}: {e}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| format!("cannot use the attachments folder {}: {e}", dir.display()))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: String::new(),
            described: format!("disk:{}", dir.display()),
        })
    }

    /// Kept in this process only: for tests and benchmarks, never for a server.
    pub fn memory() -> Self {
        Self {
            store: Arc::new(object_store::memory::InMemory::new()),
            prefix: String::new(),
            described: "memory".into(),
        }
    }

    pub fn s3(settings: &S3Settings) -> Result<Self, String> {
        let mut builder =
            AmazonS3Builder::from_env().with_bucket_name(&settings.bucket).with_region(&settings.region);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(key), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder.with_access_key_id(key).with_secret_access_key(secret);
        }
        let store = builder.build().map_err(|e| format!("attachment storage: {e}"))?;
        Ok(Self {
            store: Arc::new(store),
            prefix: settings.prefix.clone(),
            described: format!("s3://{}/{}", settings.bucket, settings.prefix),
        })
    }

    fn path(&self, sha256: &str) -> Path {
        let shard = sha256.get(..2).unwrap_or("00");
        if self.prefix.is_empty() {
            Path::from(format!("{shard}/{sha256}"))
        } else {
            Path::from(format!("{}/{shard}/{sha256}", self.prefix))
        }
    }

    /// Stores the bytes under their SHA-256 unless they are already there.
    pub async fn put(&self, sha256: &str, data: &[u8]) -> Result<(), AppError> {
        let path = self.path(sha256);
        match self.store.head(&path).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(AppError::Internal(format!("attachment storage: {e}"))),
        }
        self.store
            .put(&path, PutPayload::from(data.to_vec()))
            .await
            .map_err(|e| AppError::Internal(format!("storing an attachment: {e}")))?;
        Ok(())
    }

    pub async fn get(&self, sha256: &str) -> Result<Vec<u8>, AppError> {
        let found =
            self.store.get(&self.path(sha256)).await.map_err(|e| {
                AppError::Internal(format!("attachment {sha256} is missing from storage: {e}"))
            })?;
        let bytes = found
            .bytes()
            .await
            .map_err(|e| AppError::Internal(format!("reading attachment {sha256}: {e}")))?;
        Ok(bytes.to_vec())
    }

    /// Proves the store answers (for start-up and the readiness check): a listing of
    /// the prefix, which needs read access and nothing else.
    pub async fn check(&self) -> Result<(), String> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(|e| format!("attachment storage {self:?}: {e}"))
    }
}
