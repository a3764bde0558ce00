//! The test harness: a real Salus router served on a real socket, over SQLite (a fresh
//! file) or PostgreSQL (a fresh database on the server named by
//! `SALUS_TEST_POSTGRES_URL`). `db_test!` writes one test body that runs on both.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod billing;
pub mod care;
pub mod fhir;
pub mod page;
pub mod s3;
pub mod smtp;
pub mod stock;
pub mod ward;

use std::net::{SocketAddr, TcpListener};

use salus_app::files::FileStore;
use salus_app::identity::NewUser;
use salus_app::{App, SecuritySettings, SessionSettings};
use salus_core::Role;
use salus_db::{Db, PoolSettings};
use salus_web::WebSettings;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub app: App,
    shutdown: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    /// Where the database is, for a second instance to open it too.
    location: Option<Location>,
}

/// A database another instance can open: a SQLite file or a PostgreSQL URL.
#[derive(Debug, Clone)]
enum Location {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// The PostgreSQL server for tests, or `None` (with the reason printed) outside CI. In
/// CI a missing server fails the test instead of skipping it.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SALUS_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("SALUS_TEST_POSTGRES_URL is not set; in CI the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("SKIPPED on PostgreSQL: SALUS_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// A new, empty database on the test server.
pub async fn fresh_postgres_db(base: &str) -> String {
    let admin = Db::connect(base, &PoolSettings { max_connections: 1, ..Default::default() }).await.unwrap();
    let name = format!("salus_t_{}", uuid::Uuid::now_v7().simple());
    sea_orm::ConnectionTrait::execute_unprepared(admin.writer(), &format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let (head, query) = base.split_once('?').map_or((base, None), |(h, q)| (h, Some(q)));
    let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

pub async fn open_db(backend: Backend) -> Option<(Db, Option<tempfile::TempDir>)> {
    open_located(backend).await.map(|(db, dir, _)| (db, dir))
}

async fn open_located(backend: Backend) -> Option<(Db, Option<tempfile::TempDir>, Location)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("salus.db");
            let db = Db::open_sqlite_file(&path, &PoolSettings::default()).await.unwrap();
            Some((db, Some(dir), Location::Sqlite(path)))
        }
        Backend::Postgres => {
            let url = fresh_postgres_db(&postgres_url()?).await;
            Some((Db::connect(&url, &PoolSettings::default()).await.unwrap(), None, Location::Postgres(url)))
        }
    }
}

/// The cookie key kept in the database, as `salus serve` uses it.
async fn with_installation_key(db: &Db, mut web: WebSettings) -> WebSettings {
    let app = App::new(db.clone(), SessionSettings::default());
    web.cookie_key = salus_web::CookieKey::try_from(app.cookie_key().await.unwrap().as_slice()).unwrap();
    web
}

/// The secret the test servers' payment webhook is signed with.
pub const TEST_WEBHOOK_SECRET: &str = "salus-test-webhook-secret";

impl TestApp {
    /// A fresh database with no role required to use a second factor (the tests of the
    /// second factor ask for it with [`TestApp::start_with`]).
    pub async fn start(backend: Backend) -> Option<Self> {
        let security = SecuritySettings { two_factor_roles: Vec::new(), ..Default::default() };
        Self::start_with(backend, security, WebSettings::default()).await
    }

    pub async fn start_with(backend: Backend, security: SecuritySettings, web: WebSettings) -> Option<Self> {
        Self::start_full(backend, security, web, FileStore::memory()).await
    }

    /// With attachments kept in `files` (a folder or a bucket) rather than in memory.
    pub async fn start_with_files(backend: Backend, files: FileStore) -> Option<Self> {
        let security = SecuritySettings { two_factor_roles: Vec::new(), ..Default::default() };
        Self::start_full(backend, security, WebSettings::default(), files).await
    }

    async fn start_full(
        backend: Backend,
        security: SecuritySettings,
        web: WebSettings,
        files: FileStore,
    ) -> Option<Self> {
        let (db, dir, location) = open_located(backend).await?;
        db.migrate().await.unwrap();
        let web = with_installation_key(&db, web).await;
        let mut t = Self::serve_with(db, dir, web, security, files).await;
        t.location = Some(location);
        Some(t)
    }

    /// Another instance of Salus on the same database (and file store), with its own
    /// connections and socket, as a second server behind a load balancer would be.
    pub async fn second_instance(&self) -> TestApp {
        let db = match self.location.as_ref().expect("a database another instance can open") {
            Location::Sqlite(path) => Db::open_sqlite_file(path, &PoolSettings::default()).await.unwrap(),
            Location::Postgres(url) => Db::connect(url, &PoolSettings::default()).await.unwrap(),
        };
        let security = SecuritySettings { two_factor_roles: Vec::new(), ..Default::default() };
        let web = with_installation_key(&db, WebSettings::default()).await;
        Self::serve_with(db, None, web, security, self.app.files.clone()).await
    }

    /// Serves `db` as is (not migrated): for tests of a broken or down database.
    pub async fn serve(db: Db, dir: Option<tempfile::TempDir>, web: WebSettings) -> Self {
        Self::serve_with(db, dir, web, SecuritySettings::default(), FileStore::memory()).await
    }

    async fn serve_with(
        db: Db,
        dir: Option<tempfile::TempDir>,
        web: WebSettings,
        security: SecuritySettings,
        files: FileStore,
    ) -> Self {
        let billing = salus_app::billing::BillingSettings {
            webhook_secret: Some(TEST_WEBHOOK_SECRET.into()),
            ..Default::default()
        };
        let app = App::new(db, SessionSettings::default())
            .with_security(security)
            .with_files(files)
            .with_billing(billing);
        let router = salus_web::router(app.clone(), web);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(salus_web::server::serve(
            listener,
            router,
            None,
            async move {
                let _ = rx.await;
            },
            std::time::Duration::from_secs(5),
        ));
        Self { addr, client: client(), app, shutdown: Some(tx), _dir: dir, location: None }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new client with its own cookie jar (another browser).
    pub fn new_client(&self) -> reqwest::Client {
        client()
    }

    /// Creates a user directly through the use case; returns the password.
    pub async fn user(&self, username: &str, roles: &[Role]) -> String {
        let password = format!("{username}-password-123");
        self.app
            .identity()
            .create_user(
                &salus_app::Ctx::operator(),
                NewUser {
                    username: username.into(),
                    display_name: format!("Test {username}"),
                    password: Some(password.clone()),
                    roles: roles.to_vec(),
                },
            )
            .await
            .unwrap();
        password
    }

    /// Signs `client` in through the real login page; returns the session's CSRF token.
    pub async fn login_with(&self, client: &reqwest::Client, username: &str, password: &str) -> String {
        let page = client.get(self.url("/login")).send().await.unwrap().text().await.unwrap();
        let token = csrf_in(&page);
        let res = client
            .post(self.url("/login"))
            .form(&[("username", username), ("password", password), ("csrf_token", &token)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "login of {username} should redirect");
        // The profile page is open to every signed-in user, even one who must first
        // change a reset password; one who must first set up a second factor is sent on
        // to that page.
        let res = client.get(self.url("/profile")).send().await.unwrap();
        let res = match res.status().as_u16() {
            303 => client.get(self.url(&location(&res))).send().await.unwrap(),
            _ => res,
        };
        csrf_in(&res.text().await.unwrap())
    }

    /// Creates a user with `roles`, signs the default client in; returns the CSRF token.
    pub async fn login_as(&self, username: &str, roles: &[Role]) -> String {
        let password = self.user(username, roles).await;
        self.login_with(&self.client, username, &password).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The anti-forgery token in a page's hidden field.
pub fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len()).expect("page has a csrf_token field");
    html[start..].split('"').next().unwrap().to_owned()
}

/// The `Location` of a redirect, or empty.
pub fn location(res: &reqwest::Response) -> String {
    res.headers().get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// One test body, run on SQLite and on PostgreSQL; the second form starts the app with
/// the given `SecuritySettings` and `WebSettings`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $security:expr, $web:expr, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app =
                    common::TestApp::start_with(common::Backend::Sqlite, $security, $web).await.unwrap();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) =
                    common::TestApp::start_with(common::Backend::Postgres, $security, $web).await
                else {
                    return;
                };
                $body
            }
        }
    };
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = common::TestApp::start(common::Backend::Sqlite).await.unwrap();
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some($app) = common::TestApp::start(common::Backend::Postgres).await else { return };
                $body
            }
        }
    };
}
