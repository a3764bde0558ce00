//! The configuration: one typed struct, layered defaults → `salus.toml` → `SALUS_…`
//! environment variables (`SALUS_SERVER__PORT=9000` sets `server.port`) → command-line
//! flags, and validated before anything starts, so each mistake is one clear message.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Top-level sections; environment variables naming anything else (such as
/// `SALUS_TEST_POSTGRES_URL`, which the tests use) are not configuration.
const SECTIONS: [&str; 13] = [
    "data_dir",
    "database",
    "server",
    "tls",
    "session",
    "security",
    "limits",
    "registration",
    "billing",
    "scheduling",
    "notifications",
    "attachments",
    "log",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database lives when no database URL is given.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub session: SessionConfig,
    pub security: SecurityConfig,
    pub limits: LimitsConfig,
    pub registration: RegistrationConfig,
    pub billing: BillingConfig,
    pub scheduling: SchedulingConfig,
    pub notifications: NotificationsConfig,
    pub attachments: AttachmentsConfig,
    pub log: LogConfig,
}

/// Where scans, images and PDFs in the record are kept.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachmentsConfig {
    /// Unset: the folder `<data_dir>/attachments`. `s3://bucket/optional/prefix`: an
    /// S3-compatible bucket, which every instance behind a load balancer shares.
    pub url: Option<String>,
    /// For S3-compatible stores other than AWS, e.g. `http://minio.internal:9000`.
    pub endpoint: Option<String>,
    /// Default `us-east-1`.
    pub region: Option<String>,
    /// Unset: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` or the instance's role.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Background job workers in this instance (0: this instance runs none).
    pub workers: usize,
    /// Where SMS messages are written when no provider is configured; unset means
    /// `<data_dir>/sms.log`.
    pub sms_log: Option<PathBuf>,
    /// Outgoing mail; without it, email messages wait (and retry) until it is configured.
    pub smtp: Option<SmtpConfig>,
    /// An SMS provider's HTTP API; without it, SMS messages go to `sms_log`.
    pub sms_http: Option<SmsHttpConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsHttpConfig {
    pub url: String,
    /// minijinja with `to` and `text`, e.g. `{"to": {{ to|tojson }}, "text": {{ text|tojson }}}`.
    pub body: String,
    #[serde(default = "json_type")]
    pub content_type: String,
    /// A header for the provider's key, e.g. "Authorization".
    pub header_name: Option<String>,
    pub header_value: Option<SecretString>,
    #[serde(default = "smtp_timeout")]
    pub timeout_secs: u64,
}

fn json_type() -> String {
    "application/json".into()
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self { workers: 2, sms_log: None, smtp: None, sms_http: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "smtp_port")]
    pub port: u16,
    /// "starttls" (default), "tls" or "none".
    #[serde(default = "smtp_security")]
    pub security: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender, e.g. "Salus Hospital <appointments@hospital.example>".
    pub from: String,
    #[serde(default = "smtp_timeout")]
    pub timeout_secs: u64,
}

fn smtp_port() -> u16 {
    587
}

fn smtp_security() -> String {
    "starttls".into()
}

fn smtp_timeout() -> u64 {
    20
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulingConfig {
    /// IANA time zone of the facility: slots are its wall-clock times.
    pub time_zone: String,
}

impl Default for SchedulingConfig {
    fn default() -> Self {
        Self { time_zone: "Asia/Kolkata".into() }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillingConfig {
    /// ISO 4217 code of the one currency prices and bills are kept in.
    pub currency: String,
    /// Which days of a stay are charged a bed day: `midnight` (one per midnight in a
    /// bed; the day of discharge is not charged) or `calendar_day` (every day touched,
    /// admission and discharge days both).
    pub bed_day_rule: salus_core::inpatient::census::BedDayRule,
    /// The month the financial year starts in: 4 (April, as in India), 1 (January)…
    /// Invoice and receipt numbers start again at 1 each financial year.
    pub year_start_month: u32,
    /// A bill's discount above this percentage of its gross needs a supervisor.
    pub discount_limit_percent: u32,
    /// The shared secret the payment provider signs its webhook with (HMAC-SHA256);
    /// unset, `POST /api/v1/payments/webhook` answers 404.
    pub webhook_secret: Option<SecretString>,
}

impl Default for BillingConfig {
    fn default() -> Self {
        let defaults = salus_app::billing::BillingSettings::default();
        Self {
            currency: salus_core::Currency::default().code().into(),
            bed_day_rule: salus_core::inpatient::census::BedDayRule::Midnight,
            year_start_month: defaults.year_start_month,
            discount_limit_percent: u32::try_from(defaults.discount_limit_bp / 100).unwrap_or(10),
            webhook_secret: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationConfig {
    /// The facility's MRN prefix: 1 to 8 capital letters.
    pub mrn_prefix: String,
    /// Country calling code added to phone numbers typed without one.
    pub phone_country_code: String,
    /// How long a break-the-glass grant lasts.
    pub break_glass_minutes: i64,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        let d = salus_app::PatientSettings::default();
        Self {
            mrn_prefix: d.mrn_prefix,
            phone_country_code: d.phone_country_code,
            break_glass_minutes: d.break_glass_minutes,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityConfig {
    /// Roles whose users must set up two-factor sign-in (role names as in `salus user`).
    pub two_factor_roles: Vec<String>,
    /// The name authenticator apps show for Salus accounts.
    pub totp_issuer: String,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self { two_factor_roles: vec!["admin".into()], totp_issuer: "Salus".into() }
    }
}

/// Request rate limits of each instance (see `salus_web::RateLimits`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    pub api_per_address_per_minute: u32,
    pub api_per_address_burst: u32,
    pub api_per_token_per_minute: u32,
    pub api_per_token_burst: u32,
    pub login_per_address_per_minute: u32,
    pub login_per_address_burst: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = salus_web::RateLimits::default();
        Self {
            api_per_address_per_minute: d.api_per_address.per_minute,
            api_per_address_burst: d.api_per_address.burst,
            api_per_token_per_minute: d.api_per_token.per_minute,
            api_per_token_burst: d.api_per_token.burst,
            login_per_address_per_minute: d.login_per_address.per_minute,
            login_per_address_burst: d.login_per_address.burst,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://user@host/db` or `sqlite:path`; unset means `<data_dir>/salus.db`.
    pub url: Option<SecretString>,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
    pub busy_timeout_secs: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub bind: IpAddr,
    pub port: u16,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    /// How long requests in flight may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_mins: u64,
    pub absolute_timeout_hours: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// JSON when the output is not a terminal, else human-readable.
    Auto,
    Json,
    Pretty,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `salus=debug,info`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("salus-data"),
            database: DatabaseConfig::default(),
            server: ServerConfig::default(),
            tls: TlsConfig::default(),
            session: SessionConfig::default(),
            security: SecurityConfig::default(),
            limits: LimitsConfig::default(),
            registration: RegistrationConfig::default(),
            billing: BillingConfig::default(),
            scheduling: SchedulingConfig::default(),
            notifications: NotificationsConfig::default(),
            attachments: AttachmentsConfig::default(),
            log: LogConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: None, max_connections: 8, acquire_timeout_secs: 5, busy_timeout_secs: 5 }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            request_timeout_secs: 30,
            body_limit_bytes: 4 * 1024 * 1024,
            shutdown_grace_secs: 20,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle_timeout_mins: 30, absolute_timeout_hours: 12 }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Auto, level: "info".into() }
    }
}

/// Values given on the command line, which override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub bind: Option<IpAddr>,
    pub port: Option<u16>,
}

/// Where the database is.
pub enum DatabaseLocation {
    Url(String),
    SqliteFile(PathBuf),
}

impl Config {
    /// Loads the configuration. `file` given explicitly must exist; otherwise
    /// `salus.toml` in the working directory is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, String> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.is_file() => {
                return Err(format!("config file {} does not exist", path.display()));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("salus.toml").is_file() => {
                figment = figment.merge(Toml::file_exact("salus.toml"))
            }
            None => {}
        }
        let env = Env::prefixed("SALUS_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                SECTIONS.iter().any(|s| key == *s || key.starts_with(&format!("{s}__")))
            })
            .split("__");
        let mut config: Config = figment.merge(env).extract().map_err(|e| {
            // figment lists every error; one clear line each.
            e.into_iter().map(|e| format!("configuration: {e}")).collect::<Vec<_>>().join("\n")
        })?;
        if let Some(d) = &overrides.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(u) = &overrides.database_url {
            config.database.url = Some(SecretString::from(u.clone()));
        }
        if let Some(b) = overrides.bind {
            config.server.bind = b;
        }
        if let Some(p) = overrides.port {
            config.server.port = p;
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if let Some(url) = &self.database.url
            && let Err(e) = salus_db::backend::backend_of(url.expose_secret())
        {
            problems.push(format!("database.url: {e}"));
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections: must be at least 1".into());
        }
        match (&self.tls.cert, &self.tls.key) {
            (Some(_), None) | (None, Some(_)) => {
                problems.push("tls: set both tls.cert and tls.key, or neither".into());
            }
            (Some(cert), Some(key)) => {
                if let Err(e) = salus_web::server::load_tls(cert, key) {
                    problems.push(format!("tls: {e}"));
                }
            }
            (None, None) => {}
        }
        if self.session.idle_timeout_mins == 0 || self.session.absolute_timeout_hours == 0 {
            problems.push("session: timeouts must be at least 1".into());
        }
        for role in &self.security.two_factor_roles {
            if role.parse::<salus_core::Role>().is_err() {
                problems.push(format!("security.two_factor_roles: `{role}` is not a role"));
            }
        }
        if self.security.totp_issuer.trim().is_empty() || self.security.totp_issuer.contains(':') {
            problems.push("security.totp_issuer: must be non-empty and without ':'".into());
        }
        let l = &self.limits;
        if [
            l.api_per_address_per_minute,
            l.api_per_address_burst,
            l.api_per_token_per_minute,
            l.api_per_token_burst,
            l.login_per_address_per_minute,
            l.login_per_address_burst,
        ]
        .contains(&0)
        {
            problems.push("limits: every rate and burst must be at least 1".into());
        }
        let r = &self.registration;
        if r.mrn_prefix.is_empty()
            || r.mrn_prefix.len() > 8
            || !r.mrn_prefix.chars().all(|c| c.is_ascii_uppercase())
        {
            problems.push("registration.mrn_prefix: must be 1 to 8 capital letters".into());
        }
        if !salus_core::patients::is_calling_code(&r.phone_country_code) {
            problems.push(
                "registration.phone_country_code: must be a country calling code without + (91, 44, 234…)"
                    .into(),
            );
        }
        if let Some(smtp) = &self.notifications.smtp {
            if !["starttls", "tls", "none"].contains(&smtp.security.as_str()) {
                problems.push("notifications.smtp.security: must be starttls, tls or none".into());
            }
            if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
                problems.push("notifications.smtp.from: must be an address such as \"Salus <noreply@hospital.example>\"".into());
            }
        }
        if let Some(sms) = &self.notifications.sms_http {
            if !(sms.url.starts_with("https://") || sms.url.starts_with("http://")) {
                problems.push("notifications.sms_http.url: must be an http(s) URL".into());
            }
            if minijinja::Environment::new().template_from_str(&sms.body).is_err() {
                problems.push("notifications.sms_http.body: is not a valid template".into());
            }
            if sms.header_name.is_some() != sms.header_value.is_some() {
                problems.push("notifications.sms_http: give header_name and header_value together".into());
            }
        }
        // The folder is made when the server opens it; a bucket's address is checked here.
        if self.attachments.url.is_some()
            && let Err(e) = self.file_store()
        {
            problems.push(format!("attachments: {e}"));
        }
        if self.notifications.workers > 64 {
            problems.push("notifications.workers: at most 64".into());
        }
        if self.scheduling.time_zone.parse::<chrono_tz::Tz>().is_err() {
            problems.push(
                "scheduling.time_zone: must be an IANA time zone such as Asia/Kolkata or Africa/Lagos".into(),
            );
        }
        if salus_core::Currency::parse(&self.billing.currency).is_none() {
            problems.push(
                "billing.currency: must be an ISO 4217 currency code with a minor unit (INR, USD, KES…)"
                    .into(),
            );
        }
        if !(1..=12).contains(&self.billing.year_start_month) {
            problems.push("billing.year_start_month: must be a month, 1 to 12".into());
        }
        if self.billing.discount_limit_percent > 100 {
            problems.push("billing.discount_limit_percent: must be 0 to 100".into());
        }
        if !(1..=24 * 60).contains(&r.break_glass_minutes) {
            problems.push("registration.break_glass_minutes: must be 1 to 1440".into());
        }
        if self.server.body_limit_bytes < 1024 {
            problems.push("server.body_limit_bytes: must be at least 1024".into());
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }

    pub fn database(&self) -> DatabaseLocation {
        match &self.database.url {
            Some(url) => DatabaseLocation::Url(url.expose_secret().to_owned()),
            None => DatabaseLocation::SqliteFile(self.data_dir.join("salus.db")),
        }
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.cert.is_some()
    }

    pub fn pool_settings(&self) -> salus_db::PoolSettings {
        salus_db::PoolSettings {
            max_connections: self.database.max_connections,
            acquire_timeout: Duration::from_secs(self.database.acquire_timeout_secs),
            busy_timeout: Duration::from_secs(self.database.busy_timeout_secs),
            lazy: false,
        }
    }

    pub fn session_settings(&self) -> salus_app::SessionSettings {
        salus_app::SessionSettings {
            idle_timeout: Duration::from_secs(self.session.idle_timeout_mins * 60),
            absolute_timeout: Duration::from_secs(self.session.absolute_timeout_hours * 3600),
        }
    }

    pub fn web_settings(&self) -> salus_web::WebSettings {
        salus_web::WebSettings {
            secure_cookies: self.tls_enabled(),
            body_limit: self.server.body_limit_bytes,
            request_timeout: Duration::from_secs(self.server.request_timeout_secs),
            rate_limits: salus_web::RateLimits {
                api_per_address: salus_web::RateLimit {
                    per_minute: self.limits.api_per_address_per_minute,
                    burst: self.limits.api_per_address_burst,
                },
                api_per_token: salus_web::RateLimit {
                    per_minute: self.limits.api_per_token_per_minute,
                    burst: self.limits.api_per_token_burst,
                },
                login_per_address: salus_web::RateLimit {
                    per_minute: self.limits.login_per_address_per_minute,
                    burst: self.limits.login_per_address_burst,
                },
            },
            // Replaced by the installation's shared key when the server starts.
            cookie_key: salus_web::CookieKey::generate(),
        }
    }

    pub fn patient_settings(&self) -> salus_app::PatientSettings {
        salus_app::PatientSettings {
            mrn_prefix: self.registration.mrn_prefix.clone(),
            phone_country_code: self.registration.phone_country_code.clone(),
            break_glass_minutes: self.registration.break_glass_minutes,
        }
    }

    pub fn notification_settings(&self) -> salus_app::notifications::NotificationSettings {
        use salus_app::notifications::{NotificationSettings, SmsSettings, SmtpSecurity, SmtpSettings};
        let email = self.notifications.smtp.as_ref().map(|s| SmtpSettings {
            host: s.host.clone(),
            port: s.port,
            security: match s.security.as_str() {
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                _ => SmtpSecurity::StartTls,
            },
            username: s.username.clone(),
            password: s.password.as_ref().map(|p| p.expose_secret().to_owned()),
            from: s.from.clone(),
            timeout: Duration::from_secs(s.timeout_secs),
        });
        let sms = match &self.notifications.sms_http {
            Some(h) => SmsSettings::Http {
                url: h.url.clone(),
                body: h.body.clone(),
                content_type: h.content_type.clone(),
                header: h
                    .header_name
                    .clone()
                    .zip(h.header_value.as_ref().map(|v| v.expose_secret().to_owned())),
                timeout: Duration::from_secs(h.timeout_secs),
            },
            None => SmsSettings::Log {
                path: self.notifications.sms_log.clone().unwrap_or_else(|| self.data_dir.join("sms.log")),
            },
        };
        NotificationSettings { email, sms }
    }

    /// The attachment store this configuration names.
    pub fn file_store(&self) -> Result<salus_app::files::FileStore, String> {
        use salus_app::files::{FileStore, S3Settings};
        let a = &self.attachments;
        match &a.url {
            None => FileStore::disk(self.data_dir.join("attachments")),
            Some(url) => {
                let mut s3 = S3Settings::from_url(url)?;
                s3.endpoint = a.endpoint.clone();
                if let Some(region) = &a.region {
                    s3.region = region.clone();
                }
                s3.access_key_id = a.access_key_id.clone();
                s3.secret_access_key = a.secret_access_key.as_ref().map(|k| k.expose_secret().to_owned());
                FileStore::s3(&s3)
            }
        }
    }

    /// The time zone (checked by `validate`; the default if it somehow is not valid).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.scheduling.time_zone.parse().unwrap_or(chrono_tz::Asia::Kolkata)
    }

    /// The currency (checked by `validate`; the default if it somehow is not valid).
    pub fn currency(&self) -> salus_core::Currency {
        salus_core::Currency::parse(&self.billing.currency).unwrap_or_default()
    }

    pub fn billing_settings(&self) -> salus_app::billing::BillingSettings {
        salus_app::billing::BillingSettings {
            year_start_month: self.billing.year_start_month,
            discount_limit_bp: i64::from(self.billing.discount_limit_percent) * 100,
            webhook_secret: self.billing.webhook_secret.clone(),
        }
    }

    pub fn security_settings(&self) -> salus_app::SecuritySettings {
        salus_app::SecuritySettings {
            two_factor_roles: self.security.two_factor_roles.iter().filter_map(|r| r.parse().ok()).collect(),
            totp_issuer: self.security.totp_issuer.clone(),
        }
    }
}
