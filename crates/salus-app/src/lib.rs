//! Use cases: one function per thing a user does. Permissions, rules, transactions and
//! audit events happen here, once, whichever door — page, JSON API, FHIR or CLI — the
//! request came through.
//!
//! Each bounded context's use cases sit behind one service: `app.clinical().open_encounter(…)`,
//! `app.scheduling().book(…)`. A service is a borrowed handle on the [`App`]; inside it,
//! `self.db`, `self.authorize(…)` and the other contexts (`self.patients().load_for(…)`)
//! are reached through `Deref`. Only what every context shares stays on `App` itself:
//! settings, `authorize`, the read auditor. A new context adds its module and one
//! `service!` line here.

pub mod audit;
pub mod audit_reads;
pub mod billing;
mod charges;
pub mod clinical;
pub mod error;
pub mod files;
pub mod health;
pub mod hospital;
pub mod identity;
pub mod imaging;
pub mod inpatient;
pub mod interop;
pub mod jobs;
pub mod laboratory;
pub mod notifications;
pub(crate) mod operations;
pub mod organisation;
pub mod patients;
pub mod pharmacy;
pub mod scheduling;

use std::time::Duration;

pub use audit::Ctx;
pub use error::AppError;
use salus_core::{Currency, Role};
use salus_db::Db;

/// Rows as the domain's records: what a use case hands to a door (never an entity).
pub(crate) fn records<M, R: From<M>>(rows: Vec<M>) -> Vec<R> {
    rows.into_iter().map(R::from).collect()
}

/// Declares a context's service: a handle type, and the `App` method that returns it.
macro_rules! service {
    ($(#[$doc:meta])* $ty:ident, $accessor:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $ty<'a>(&'a App);

        impl std::ops::Deref for $ty<'_> {
            type Target = App;
            fn deref(&self) -> &App {
                self.0
            }
        }

        impl App {
            #[inline]
            pub fn $accessor(&self) -> $ty<'_> {
                $ty(self)
            }
        }
    };
}

service!(
    /// Users, roles, sign-in, sessions, API tokens and two-factor sign-in.
    Identity,
    identity
);
service!(
    /// The master patient index: registration, search, access by relationship and
    /// break-the-glass, the chart's demographic part, merges.
    Patients,
    patients
);
service!(
    /// Facilities, departments, specialisations, staff profiles, the price list.
    Organisation,
    organisation
);
service!(
    /// Doctors' sessions and exceptions, free slots, appointments, the waiting room.
    Scheduling,
    scheduling
);
service!(
    /// The clinical record: encounters, vitals, notes, diagnoses, allergies,
    /// immunizations, prescriptions, referrals, attachments.
    Clinical,
    clinical
);
service!(
    /// The laboratory: catalog, orders, specimens, results, verification, critical values.
    Laboratory,
    laboratory
);
service!(
    /// Imaging: catalog, orders with accession numbers, scheduling, examinations, reports.
    Imaging,
    imaging
);
service!(
    /// The pharmacy and its stores: items, batches, the stock ledger, dispensing, sales.
    Pharmacy,
    pharmacy
);
service!(
    /// Messages to patients: the outbox, its templates, reminders.
    Notifications,
    notifications
);
service!(
    /// Inpatient care: wards and beds, admissions, transfers and discharges.
    Inpatient,
    inpatient
);

service!(
    /// Billing: invoices from charges, payments, deposits, refunds, cashier shifts, the
    /// journal and its reports.
    Billing,
    billing
);

service!(
    /// The standard doors' reads (FHIR): a patient's record gathered under one check and
    /// one audited read.
    Interop,
    interop
);

service!(
    /// Background jobs: claiming, running, retrying.
    Jobs,
    jobs
);
service!(
    /// The audit trail: sealing, verifying, searching, exporting.
    Audit,
    audit
);

/// Session lifetimes. A session ends when idle for `idle_timeout` or, whatever the
/// activity, `absolute_timeout` after login.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub idle_timeout: Duration,
    pub absolute_timeout: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self { idle_timeout: Duration::from_secs(30 * 60), absolute_timeout: Duration::from_secs(12 * 3600) }
    }
}

/// Sign-in rules beyond the password.
#[derive(Debug, Clone)]
pub struct SecuritySettings {
    /// Users holding any of these roles must set up a second factor before they can do
    /// anything else (an administrator can also require it of one user).
    pub two_factor_roles: Vec<Role>,
    /// The issuer shown in authenticator apps ("Salus — City Hospital").
    pub totp_issuer: String,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self { two_factor_roles: vec![Role::Admin], totp_issuer: "Salus".into() }
    }
}

/// Registration rules.
#[derive(Debug, Clone)]
pub struct PatientSettings {
    /// The facility's MRN prefix (letters, up to 8).
    pub mrn_prefix: String,
    /// Country calling code for phone numbers typed without one (e.g. "91").
    pub phone_country_code: String,
    /// How long a break-the-glass grant lasts.
    pub break_glass_minutes: i64,
}

impl Default for PatientSettings {
    fn default() -> Self {
        Self { mrn_prefix: "SAL".into(), phone_country_code: "91".into(), break_glass_minutes: 60 }
    }
}

/// The application: the database and the settings use cases need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct App {
    pub db: Db,
    pub sessions: SessionSettings,
    pub security: SecuritySettings,
    pub patients: PatientSettings,
    /// The one currency prices and bills are kept in.
    pub currency: Currency,
    /// The facility's time zone: slots are its wall-clock times.
    pub time_zone: chrono_tz::Tz,
    /// How messages to patients leave.
    pub notifications: notifications::NotificationSettings,
    /// The laboratory's duplicate-order window and critical-result escalation time.
    pub lab: laboratory::LabSettings,
    /// Which days of a stay are charged a bed day.
    pub bed_day_rule: salus_core::inpatient::census::BedDayRule,
    /// The financial year and the discount a clerk may give alone.
    pub billing: billing::BillingSettings,
    /// Where attachments are stored, content-addressed.
    pub files: files::FileStore,
    /// Where reads of patient data leave their audit events (group commit).
    pub reads: audit_reads::ReadAuditor,
    /// Sessions and API tokens cached, with revocations read before each is trusted.
    pub(crate) sign_ins: std::sync::Arc<identity::sign_ins::SignIns>,
    /// Job kinds an outer layer works (see [`jobs::JobRun`]).
    pub(crate) job_handlers: std::sync::Arc<jobs::JobHandlers>,
}

impl App {
    /// Needs a Tokio runtime for the read auditor's task.
    pub fn new(db: Db, sessions: SessionSettings) -> Self {
        let reads = audit_reads::ReadAuditor::start(db.clone());
        Self {
            db,
            sessions,
            security: SecuritySettings::default(),
            patients: PatientSettings::default(),
            currency: Currency::default(),
            time_zone: chrono_tz::Asia::Kolkata,
            notifications: notifications::NotificationSettings::default(),
            lab: laboratory::LabSettings::default(),
            files: files::FileStore::memory(),
            bed_day_rule: salus_core::inpatient::census::BedDayRule::Midnight,
            billing: billing::BillingSettings::default(),
            reads,
            sign_ins: Default::default(),
            job_handlers: Default::default(),
        }
    }

    pub fn with_security(mut self, security: SecuritySettings) -> Self {
        self.security = security;
        self
    }

    pub fn with_patients(mut self, patients: PatientSettings) -> Self {
        self.patients = patients;
        self
    }

    pub fn with_notifications(mut self, settings: notifications::NotificationSettings) -> Self {
        self.notifications = settings;
        self
    }

    pub fn with_files(mut self, files: files::FileStore) -> Self {
        self.files = files;
        self
    }

    pub fn with_time_zone(mut self, time_zone: chrono_tz::Tz) -> Self {
        self.time_zone = time_zone;
        self
    }

    pub fn with_bed_day_rule(mut self, rule: salus_core::inpatient::census::BedDayRule) -> Self {
        self.bed_day_rule = rule;
        self
    }

    pub fn with_billing(mut self, billing: billing::BillingSettings) -> Self {
        self.billing = billing;
        self
    }

    pub fn with_currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }
}
