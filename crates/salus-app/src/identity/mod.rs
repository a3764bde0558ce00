//! Identity and access: user accounts, roles, login and sessions.
//!
//! Who may do what is answered by [`Permission`] and [`Actor::require`]; the matrix grows
//! in the access-control issue, but every use case already states what it needs.

pub mod password;
pub mod profile;
pub mod session;
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

/// Things a use case may need to be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create users, change roles, disable accounts, reset passwords.
    UsersManage,
    /// Read the audit trail (and review break-the-glass grants).
    AuditView,
    /// Find patients and read their demographics (restricted records need the glass broken).
    PatientsRead,
    /// Register patients and edit their demographics, photo, status and death.
    PatientsRegister,
    /// Merge duplicate records and undo merges.
    PatientsMerge,
    /// Open a restricted record, with a stated reason, for a limited time.
    PatientsBreakGlass,
    /// See facilities, departments, specialisations, staff profiles and the price list.
    OrganisationRead,
    /// Change them.
    OrganisationManage,
    /// Set doctors' weekly sessions, leave, holidays and extra sessions.
    SchedulesManage,
    /// See free slots, the day's appointments and the waiting room.
    AppointmentsRead,
    /// Book, reschedule, cancel, mark no-show and check in.
    AppointmentsBook,
    /// Start and finish consultations, call the next patient.
    AppointmentsConsult,
    /// See background jobs and the outbox, retry dead jobs, edit message templates.
    JobsManage,
    /// Read the clinical record: encounters, notes, diagnoses, allergies, vitals.
    ClinicalRead,
    /// Write notes, diagnoses and (later) prescriptions; open encounters.
    ClinicalWrite,
    /// Record vital signs, allergies and immunizations (triage).
    VitalsRecord,
}

impl Permission {
    pub const ALL: [Permission; 16] = [
        Permission::UsersManage,
        Permission::AuditView,
        Permission::PatientsRead,
        Permission::PatientsRegister,
        Permission::PatientsMerge,
        Permission::PatientsBreakGlass,
        Permission::OrganisationRead,
        Permission::OrganisationManage,
        Permission::SchedulesManage,
        Permission::AppointmentsRead,
        Permission::AppointmentsBook,
        Permission::AppointmentsConsult,
        Permission::JobsManage,
        Permission::ClinicalRead,
        Permission::ClinicalWrite,
        Permission::VitalsRecord,
    ];

    /// The name in the audit trail and in API token scopes.
    pub const fn name(self) -> &'static str {
        match self {
            Permission::UsersManage => "users.manage",
            Permission::AuditView => "audit.view",
            Permission::PatientsRead => "patients.read",
            Permission::PatientsRegister => "patients.register",
            Permission::PatientsMerge => "patients.merge",
            Permission::PatientsBreakGlass => "patients.break_glass",
            Permission::OrganisationRead => "organisation.read",
            Permission::OrganisationManage => "organisation.manage",
            Permission::SchedulesManage => "schedules.manage",
            Permission::AppointmentsRead => "appointments.read",
            Permission::AppointmentsBook => "appointments.book",
            Permission::AppointmentsConsult => "appointments.consult",
            Permission::JobsManage => "jobs.manage",
            Permission::ClinicalRead => "clinical.read",
            Permission::ClinicalWrite => "clinical.write",
            Permission::VitalsRecord => "vitals.record",
        }
    }

    pub fn parse(name: &str) -> Option<Permission> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    /// What it allows, in words, for the token form.
    pub const fn label(self) -> &'static str {
        match self {
            Permission::UsersManage => "Manage user accounts",
            Permission::AuditView => "Read the audit trail",
            Permission::PatientsRead => "Find and read patients",
            Permission::PatientsRegister => "Register and edit patients",
            Permission::PatientsMerge => "Merge duplicate patients",
            Permission::PatientsBreakGlass => "Break the glass on restricted records",
            Permission::OrganisationRead => "See departments, staff and the price list",
            Permission::OrganisationManage => "Change departments, staff profiles and the price list",
            Permission::SchedulesManage => "Set doctors' sessions and leave",
            Permission::AppointmentsRead => "See slots, appointments and the waiting room",
            Permission::AppointmentsBook => "Book, move, cancel and check in appointments",
            Permission::AppointmentsConsult => "Start and finish consultations",
            Permission::JobsManage => "See jobs and messages, edit message templates",
            Permission::ClinicalRead => "Read the clinical record",
            Permission::ClinicalWrite => "Write notes, diagnoses and prescriptions",
            Permission::VitalsRecord => "Record vital signs, allergies and immunizations",
        }
    }
}

impl Permission {
    /// The role → permission matrix, in one place. A patient's own account holds none of
    /// these: what it may see is decided by its link to one record.
    pub fn granted_to(self, role: Role) -> bool {
        use Role::*;
        match self {
            Permission::UsersManage
            | Permission::AuditView
            | Permission::PatientsMerge
            | Permission::OrganisationManage
            | Permission::SchedulesManage
            | Permission::JobsManage => role == Admin,
            Permission::AppointmentsRead => matches!(role, Admin | Doctor | Nurse | Receptionist),
            Permission::AppointmentsBook => matches!(role, Admin | Receptionist | Nurse),
            Permission::AppointmentsConsult | Permission::ClinicalWrite => role == Doctor,
            Permission::ClinicalRead | Permission::VitalsRecord => matches!(role, Doctor | Nurse),
            Permission::PatientsRead | Permission::OrganisationRead => {
                matches!(role, Admin | Doctor | Nurse | Receptionist | LabTechnician | Pharmacist | Billing)
            }
            Permission::PatientsRegister => matches!(role, Admin | Receptionist),
            Permission::PatientsBreakGlass => matches!(role, Doctor | Nurse),
        }
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
