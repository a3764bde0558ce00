//! Identity and access: user accounts, roles, login and sessions.
//!
//! Who may do what is answered by [`Permission`] and [`Actor::require`]; the matrix grows
//! in the access-control issue, but every use case already states what it needs.

pub mod password;
pub mod profile;
pub mod session;
pub(crate) mod sign_ins;
pub mod smart;
pub mod tokens;
pub mod two_factor;
pub mod users;

use salus_core::{Role, UserId, Username};

pub use profile::{PasswordChange, SessionInfo};
pub use session::{ClientInfo, NewSession, SessionUser};
pub use tokens::{ApiToken, NewApiToken};
pub use two_factor::{Enrolment, TwoFactorStatus};
pub use users::{NewUser, User};

use crate::AppError;

/// Declares the permissions, each once: what it allows (the doc), its name in the audit
/// trail and in API token scopes, its words on the token form, and the roles that hold
/// it. The enum, `ALL`, `name`, `label` and the role matrix all come from this one table.
macro_rules! permissions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $label:literal, [$($role:ident)|+]; )*) => {
        /// Things a use case may need to be allowed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Permission { $( $(#[$doc])* $variant, )* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant),*];

            /// The name in the audit trail and in API token scopes.
            pub const fn name(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }

            /// What it allows, in words, for the token form.
            pub const fn label(self) -> &'static str {
                match self { $(Permission::$variant => $label,)* }
            }

            /// The role → permission matrix. A patient's own account holds none of these:
            /// what it may see is decided by its link to one record.
            pub fn granted_to(self, role: Role) -> bool {
                match self { $(Permission::$variant => matches!(role, $(Role::$role)|+),)* }
            }
        }
    };
}

// Grouped by context; a new context adds its group here.
permissions! {
    // Identity and audit.
    /// Create users, change roles, disable accounts, reset passwords.
    UsersManage = "users.manage", "Manage user accounts", [Admin];
    /// Read the audit trail (and review break-the-glass grants).
    AuditView = "audit.view", "Read the audit trail", [Admin];

    // Patients.
    /// Find patients and read their demographics (restricted records need the glass broken).
    PatientsRead = "patients.read", "Find and read patients",
        [Admin | Doctor | Nurse | Receptionist | LabTechnician | Pharmacist | Billing];
    /// Register patients and edit their demographics, photo, status and death.
    PatientsRegister = "patients.register", "Register and edit patients", [Admin | Receptionist];
    /// Merge duplicate records and undo merges.
    PatientsMerge = "patients.merge", "Merge duplicate patients", [Admin];
    /// Open a restricted record, with a stated reason, for a limited time.
    PatientsBreakGlass = "patients.break_glass", "Break the glass on restricted records", [Doctor | Nurse];

    // Organisation.
    /// See facilities, departments, specialisations, staff profiles and the price list.
    OrganisationRead = "organisation.read", "See departments, staff and the price list",
        [Admin | Doctor | Nurse | Receptionist | LabTechnician | Pharmacist | Billing];
    /// Change them.
    OrganisationManage = "organisation.manage", "Change departments, staff profiles and the price list", [Admin];

    // Scheduling.
    /// Set doctors' weekly sessions, leave, holidays and extra sessions.
    SchedulesManage = "schedules.manage", "Set doctors' sessions and leave", [Admin];
    /// See free slots, the day's appointments and the waiting room.
    AppointmentsRead = "appointments.read", "See slots, appointments and the waiting room",
        [Admin | Doctor | Nurse | Receptionist];
    /// Book, reschedule, cancel, mark no-show and check in.
    AppointmentsBook = "appointments.book", "Book, move, cancel and check in appointments",
        [Admin | Receptionist | Nurse];
    /// Start and finish consultations, call the next patient.
    AppointmentsConsult = "appointments.consult", "Start and finish consultations", [Doctor];

    // Notifications and jobs.
    /// See background jobs and the outbox, retry dead jobs, edit message templates.
    JobsManage = "jobs.manage", "See jobs and messages, edit message templates", [Admin];

    // Interoperability.
    /// Export the hospital's records in bulk (FHIR `$export`); restricted records stay out.
    InteropExport = "interop.export", "Export records in bulk", [Admin];

    // Clinical.
    /// Read the clinical record: encounters, notes, diagnoses, allergies, vitals.
    ClinicalRead = "clinical.read", "Read the clinical record", [Doctor | Nurse];
    /// Write notes, diagnoses and prescriptions; open encounters.
    ClinicalWrite = "clinical.write", "Write notes, diagnoses and prescriptions", [Doctor];
    /// Record vital signs, allergies and immunizations (triage).
    VitalsRecord = "vitals.record", "Record vital signs, allergies and immunizations", [Doctor | Nurse];

    // Laboratory.
    /// Order tests, acknowledge critical results, mark results reviewed.
    LabOrder = "lab.order", "Order tests and acknowledge critical results", [Doctor];
    /// Collect specimens and print their labels.
    LabCollect = "lab.collect", "Collect specimens", [Nurse | LabTechnician];
    /// The lab's worklist: receive or reject specimens, enter and correct results.
    LabWork = "lab.work", "Receive specimens and enter results", [LabTechnician];
    /// Verify results another technician entered, releasing them.
    LabVerify = "lab.verify", "Verify results", [LabTechnician];

    // Imaging.
    /// Order imaging examinations and mark their reports reviewed.
    ImagingOrder = "imaging.order", "Order imaging examinations", [Doctor];
    /// The imaging worklist: schedule, perform, add images (radiographers work under the
    /// diagnostic-services role; a doctor performing an ultrasound does too).
    ImagingWork = "imaging.work", "Schedule and perform imaging examinations", [Doctor | LabTechnician];
    /// Write, authorise and amend imaging reports.
    ImagingReport = "imaging.report", "Write and authorise imaging reports", [Doctor];

    // Pharmacy and stores.
    /// See stock: positions, batches, the ledger, low stock and expiry.
    StockRead = "stock.read", "See stock, batches and the ledger", [Admin | Doctor | Nurse | Pharmacist];
    /// Receive goods, adjust with a reason, transfer, hold and release batches, count stock.
    StockManage = "stock.manage", "Receive, adjust, transfer and hold stock", [Pharmacist];
    /// Dispense prescriptions, take patient returns, sell over the counter.
    PharmacyDispense = "pharmacy.dispense", "Dispense and sell medicines", [Pharmacist];
    /// Stores, suppliers, stock items and reorder levels.
    StockAdmin = "stock.admin", "Set up stores, suppliers, items and reorder levels", [Admin | Pharmacist];

    // Billing.
    /// See patients' accounts, invoices, receipts and the billing reports.
    BillingRead = "billing.read", "See accounts, invoices, payments and billing reports", [Admin | Billing];
    /// Post invoices, take payments and deposits, ask for refunds, run a cash shift.
    BillingCollect = "billing.collect", "Post invoices and take payments", [Billing];
    /// A supervisor's acts: approve refunds and large discounts, cancel invoices.
    BillingApprove = "billing.approve", "Approve refunds and discounts, cancel invoices", [Admin];
    /// Patients' policies, pre-authorisations and claims: request, record the insurer's
    /// answers, settle.
    InsuranceWork = "insurance.work", "Record policies, work pre-authorisations and claims", [Billing];
    /// The payers (insurers, third-party administrators) and their plans.
    InsuranceAdmin = "insurance.admin", "Set up insurers and their plans", [Admin];

    // Inpatient care.
    /// See the wards' bed boards, the admission queue and who is in which bed.
    InpatientRead = "inpatient.read", "See the wards, their beds and who is in them", [Admin | Doctor | Nurse | Receptionist];
    /// Ask for a patient's admission; order a discharge.
    InpatientOrder = "inpatient.order", "Request admissions, order medicines and discharges", [Doctor];
    /// Admit, transfer between beds, discharge the patient leaving.
    InpatientAdmit = "inpatient.admit", "Admit, transfer and discharge patients", [Receptionist | Nurse];
    /// Reserve, release, block and unblock beds; mark them cleaned.
    BedManage = "inpatient.beds", "Reserve, block and ready beds", [Receptionist | Nurse];
    /// Wards and their beds.
    WardAdmin = "inpatient.setup", "Set up wards and beds", [Admin];
    /// Record a dose given, held, refused or missed; amend such a record.
    MarRecord = "inpatient.mar", "Record and amend doses given on the ward", [Nurse];
    /// Nurses' notes, intake and output, nursing tasks.
    NursingRecord = "inpatient.nursing", "Write nurses' notes, intake and output, and tasks", [Nurse];
}

impl Permission {
    pub fn parse(name: &str) -> Option<Permission> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }
}

impl crate::App {
    /// Checks `permission` for the caller; a refusal is itself an audit event.
    pub async fn authorize(&self, ctx: &crate::Ctx, permission: Permission) -> Result<(), AppError> {
        match ctx.actor.require(permission) {
            Ok(()) => Ok(()),
            Err(refused) => {
                let txn = self.db.begin_write().await?;
                let event =
                    crate::audit::Event::new("access.denied", "permission", Some(permission.name().into()))
                        .outcome(crate::audit::Outcome::Denied);
                crate::audit::record(&txn, ctx, event).await?;
                txn.commit().await?;
                Err(refused)
            }
        }
    }
}

/// Who is acting: a signed-in user, or the operator at the server's console (the `salus`
/// CLI, which has the database in hand anyway and so is allowed everything).
#[derive(Debug, Clone)]
pub enum Actor {
    User(CurrentUser),
    Operator,
    /// Nobody signed in (a login attempt).
    Anonymous,
}

impl Actor {
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        match self {
            Actor::Operator => Ok(()),
            Actor::User(u) if u.may(permission) => Ok(()),
            Actor::User(_) | Actor::Anonymous => Err(AppError::Forbidden),
        }
    }

    /// The signed-in user, if a user is acting.
    pub fn user(&self) -> Option<&CurrentUser> {
        match self {
            Actor::User(u) => Some(u),
            _ => None,
        }
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: UserId,
    pub username: Username,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Something the user must do before anything else; only the pages for it are open.
    pub gate: Option<Gate>,
    /// Set when the request came with an API token: it may do no more than these, and no
    /// more than the roles allow.
    pub scope: Option<Vec<Permission>>,
    pub two_factor_enabled: bool,
    /// A patient's own account: the record it is linked to.
    pub patient_id: Option<salus_core::PatientId>,
    /// Set when the request came with a SMART app's token: it reaches `/fhir` only, and
    /// the launch patient's record alone when it has one.
    pub smart: Option<SmartGrant>,
}

/// What a SMART app's token was granted beyond its permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmartGrant {
    pub client_id: String,
    pub patient: Option<salus_core::PatientId>,
}

/// A step between a user and the rest of Salus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// The password was right; the code from the authenticator is still to come.
    SecondFactor,
    /// An administrator reset the password: the user picks a new one first.
    ChangePassword,
    /// The user's roles (or an administrator) require a second factor, and none is set up.
    EnrolSecondFactor,
}

impl CurrentUser {
    pub fn may(&self, permission: Permission) -> bool {
        self.roles.iter().any(|r| permission.granted_to(*r))
            && self.scope.as_ref().is_none_or(|s| s.contains(&permission))
    }

    pub fn must_change_password(&self) -> bool {
        self.gate == Some(Gate::ChangePassword)
    }

    pub fn must_enrol_second_factor(&self) -> bool {
        self.gate == Some(Gate::EnrolSecondFactor)
    }
}
