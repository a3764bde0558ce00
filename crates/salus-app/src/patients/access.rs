//! Who may see which patient — the one function that answers it ([`App::load_for`]) and
//! break-the-glass.
//!
//! - A patient's own account sees its linked record and nothing else; any other id is
//!   "not found", the same answer as for an id that does not exist.
//! - Staff act by permission: reading needs `patients.read`, editing
//!   `patients.register`, merging `patients.merge`.
//! - A restricted record (VIP, staff member, sensitive) opens to staff only through a
//!   break-the-glass grant: the clinician states a reason, the grant lasts a limited
//!   time, is audited, and waits in a list for an administrator's review. Merging, an
//!   administrator's task on the index itself, does not need one.

use chrono::{DateTime, Duration, Utc};
use salus_core::{PatientId, UserId};
use salus_db::entity::{break_glass, patient};
use salus_db::patients as q;
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event, Outcome};
use crate::identity::{Actor, Permission};
use crate::{AppError, Ctx};
use salus_core::Role;

/// What is being done to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientAction {
    Read,
    Edit,
    Merge,
    /// Bill it: the billing desk's view of the record (name and number, the charges). A
    /// restricted record is billed like any other — a VIP's stay is still paid for — and
    /// every look is audited as always; its clinical record stays behind the glass.
    Bill,
}

impl PatientAction {
    const fn permission(self) -> Permission {
        match self {
            PatientAction::Read => Permission::PatientsRead,
            PatientAction::Edit => Permission::PatientsRegister,
            PatientAction::Merge => Permission::PatientsMerge,
            PatientAction::Bill => Permission::BillingRead,
        }
    }
}

/// A break-the-glass grant, for the review list.
#[derive(Debug, Clone)]
pub struct BreakGlassGrant {
    pub id: Uuid,
    pub user_id: UserId,
    pub username: String,
    pub patient_id: PatientId,
    pub mrn: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

impl crate::Patients<'_> {
    /// The record `id` if the caller may do `action` to it. Refusals are audited.
    pub(crate) async fn load_for(
        &self,
        ctx: &Ctx,
        id: PatientId,
        action: PatientAction,
    ) -> Result<patient::Model, AppError> {
        let row = q::find_patient(self.db.reader(), id.as_uuid()).await?;
        self.admit(ctx, id, action, row, |r| r.restricted).await
    }

    /// [`Self::load_for`] with the record's identifiers and photo, in one round trip.
    pub(crate) async fn load_whole_for(
        &self,
        ctx: &Ctx,
        id: PatientId,
        action: PatientAction,
    ) -> Result<q::WholePatient, AppError> {
        let whole = q::find_whole_patient(&self.db, id.as_uuid()).await?;
        self.admit(ctx, id, action, whole, |w| w.row.restricted).await
    }

    /// The access decision on a record already read (`None`: there is no such record).
    async fn admit<R>(
        &self,
        ctx: &Ctx,
        id: PatientId,
        action: PatientAction,
        row: Option<R>,
        restricted: fn(&R) -> bool,
    ) -> Result<R, AppError> {
        let user = match &ctx.actor {
            Actor::Operator => return row.ok_or(AppError::NotFound("patient")),
            Actor::Anonymous => return Err(AppError::Unauthenticated),
            Actor::User(u) => u,
        };
        if let Some(launched) = user.smart.as_ref().and_then(|g| g.patient)
            && launched != id
        {
            // An app launched with one patient reaches no other record.
            self.deny(ctx, id, "outside the app's launch patient").await?;
            return Err(AppError::NotFound("patient"));
        }
        if user.roles.contains(&Role::Patient) {
            // Their own record, to read; anything else is as if it did not exist.
            return match row {
                Some(r) if action == PatientAction::Read && user.patient_id == Some(id) => Ok(r),
                _ => {
                    self.deny(ctx, id, "not the patient's own record").await?;
                    Err(AppError::NotFound("patient"))
                }
            };
        }
        self.authorize(ctx, action.permission()).await?;
        let row = row.ok_or(AppError::NotFound("patient"))?;
        if restricted(&row) && !matches!(action, PatientAction::Merge | PatientAction::Bill) {
            let grant =
                q::active_break_glass(self.db.reader(), user.id.as_uuid(), id.as_uuid(), Utc::now()).await?;
            if grant.is_none() {
                self.deny(ctx, id, "restricted record").await?;
                return Err(AppError::BreakGlassRequired {
                    may_break_glass: user.may(Permission::PatientsBreakGlass),
                });
            }
        }
        Ok(row)
    }

    async fn deny(&self, ctx: &Ctx, id: PatientId, why: &str) -> Result<(), AppError> {
        let event = Event::new("access.denied", "patient", Some(id.to_string()))
            .patient(id.as_uuid())
            .outcome(Outcome::Denied)
            .detail(json!({ "why": why }));
        let txn = self.db.begin_write().await?;
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Opens a restricted record to the caller for the configured time, with `reason`.
    #[tracing::instrument(skip_all, fields(patient_id = %id))]
    pub async fn break_glass(
        &self,
        ctx: &Ctx,
        id: PatientId,
        reason: &str,
    ) -> Result<DateTime<Utc>, AppError> {
        self.authorize(ctx, Permission::PatientsBreakGlass).await?;
        let Actor::User(user) = &ctx.actor else { return Err(AppError::Unauthenticated) };
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(AppError::field("reason", "say why you need this record (at least 10 characters)"));
        }
        if reason.chars().count() > 500 {
            return Err(AppError::field("reason", "must be at most 500 characters"));
        }
        let row =
            q::find_patient(self.db.reader(), id.as_uuid()).await?.ok_or(AppError::NotFound("patient"))?;
        if !row.restricted {
            return Err(AppError::Conflict("This record is not restricted; open it directly.".into()));
        }
        let now = Utc::now();
        let expires_at = now + Duration::minutes(self.patients.break_glass_minutes);
        let grant_id = Uuid::now_v7();
        let txn = self.db.begin_write().await?;
        q::insert_break_glass(
            &txn,
            break_glass::Model {
                id: grant_id,
                user_id: user.id.as_uuid(),
                patient_id: row.id,
                reason: reason.to_owned(),
                created_at: now,
                expires_at,
                reviewed_by: None,
                reviewed_at: None,
            },
        )
        .await?;
        let event = Event::new("patient.break_glass", "patient", Some(id.to_string()))
            .patient(row.id)
            .reason(reason)
            .detail(json!({ "grant": grant_id, "expires_at": expires_at }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(expires_at)
    }

    /// Break-the-glass grants for review, newest first.
    pub async fn break_glass_grants(
        &self,
        ctx: &Ctx,
        unreviewed_only: bool,
        before: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<BreakGlassGrant>, AppError> {
        self.authorize(ctx, Permission::AuditView).await?;
        let rows = q::break_glass_page(self.db.reader(), unreviewed_only, before, limit).await?;
        let mut out = Vec::with_capacity(rows.len());
        let patient_ids: Vec<Uuid> = rows.iter().map(|r| r.patient_id).collect();
        let user_ids: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
        let patients = q::patients_by_ids(self.db.reader(), &patient_ids).await?;
        let users = salus_db::identity::usernames_of(self.db.reader(), &user_ids).await?;
        for r in rows {
            let username =
                users.iter().find(|(id, _)| *id == r.user_id).map(|(_, n)| n.clone()).unwrap_or_default();
            let mrn =
                patients.iter().find(|p| p.id == r.patient_id).map(|p| p.mrn.clone()).unwrap_or_default();
            out.push(BreakGlassGrant {
                id: r.id,
                user_id: UserId::from_uuid(r.user_id),
                username,
                patient_id: PatientId::from_uuid(r.patient_id),
                mrn,
                reason: r.reason,
                created_at: r.created_at,
                expires_at: r.expires_at,
                reviewed_at: r.reviewed_at,
            });
        }
        Ok(out)
    }

    /// Marks a grant reviewed.
    pub async fn review_break_glass(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        self.authorize(ctx, Permission::AuditView).await?;
        let Actor::User(user) = &ctx.actor else { return Err(AppError::Unauthenticated) };
        let txn = self.db.begin_write().await?;
        if !q::review_break_glass(&txn, id, user.id.as_uuid(), Utc::now()).await? {
            return Err(AppError::NotFound("unreviewed grant"));
        }
        audit::record(&txn, ctx, Event::new("break_glass.reviewed", "break_glass", Some(id.to_string())))
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Links a patient account to its record (administrators).
    pub async fn link_patient_account(&self, ctx: &Ctx, user_id: UserId, mrn: &str) -> Result<(), AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let mrn = salus_core::patients::Mrn::parse(mrn)
            .ok_or_else(|| AppError::field("mrn", "is not a medical record number (check the last digit)"))?;
        let p = q::find_patient_by_mrn(self.db.reader(), mrn.as_str())
            .await?
            .ok_or_else(|| AppError::field("mrn", "no patient has this number"))?;
        let user = salus_db::identity::find_user(self.db.reader(), user_id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if !user.roles.iter().any(|r| r == Role::Patient.as_str()) {
            return Err(AppError::field("mrn", "only a patient account can be linked to a record"));
        }
        let txn = self.db.begin_write().await?;
        q::set_users_patient(&txn, &[user_id.as_uuid()], Some(p.id)).await?;
        salus_db::identity::delete_sessions_of_user(&txn, user_id.as_uuid()).await?;
        let event = Event::new("user.patient_link", "user", Some(user_id.to_string())).patient(p.id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}
