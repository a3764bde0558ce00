//! Bulk export: a request recorded with its job, pages of whole tables read in id order
//! for the job, and the files it writes. The door (FHIR `$export`) decides what a page
//! becomes; this module decides who may ask, what is read, and that every patient whose
//! data leaves is audited (as the requester) before the file holding it exists.
//!
//! An export is the hospital's data leaving in bulk, so it is its own permission
//! (`interop.export`, the administrator's), and a restricted record never leaves this way:
//! it is read one at a time, with the glass broken.

use chrono::{DateTime, Utc};
use salus_core::identity::{Role, Username};
use salus_core::laboratory::LabOrder;
use salus_core::{PatientId, UserId};
use salus_db::entity::{
    allergy, appointment, attachment, bulk_export, charge, diagnosis, encounter, immunization, lab_order,
    lab_result, lab_specimen, medication_administration, prescription, vital,
};
use salus_db::exports::{self as q, Scan};
use sea_orm::Condition;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::{Actor, CurrentUser, Permission};
use crate::patients::Patient;
use crate::{AppError, Ctx};

/// The job kind that works an export.
pub const EXPORT_JOB: &str = "fhir.export";

/// Whose data an export takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// Everything the hospital holds.
    System,
    /// Every patient's compartment.
    Patients,
    /// The patients in a ward (a group is a ward's current census).
    Group(Uuid),
}

impl ExportScope {
    fn as_str(self) -> &'static str {
        match self {
            ExportScope::System => "system",
            ExportScope::Patients => "patient",
            ExportScope::Group(_) => "group",
        }
    }
}

/// What was asked.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The request's URL, echoed in the manifest.
    pub request: String,
    pub scope: ExportScope,
    /// The door's names of what to export, in order.
    pub types: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    /// Queue a job to work it (the server); without, the caller works it (the console).
    pub queue: bool,
}

/// One file an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFile {
    /// The door's name for what it holds (a FHIR resource type).
    #[serde(rename = "type")]
    pub kind: String,
    pub sha256: String,
    pub count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportStatus {
    InProgress,
    Complete,
    Failed,
    Cancelled,
}

/// An export as its requester (and its job) sees it.
#[derive(Debug, Clone)]
pub struct BulkExport {
    pub id: Uuid,
    pub request: String,
    pub scope: ExportScope,
    pub types: Vec<String>,
    pub since: Option<DateTime<Utc>>,
    pub status: ExportStatus,
    /// The instant the export's data is as of (a later change may or may not be in it).
    pub transaction_time: DateTime<Utc>,
    /// The job's own note of where it stands.
    pub cursor: String,
    pub output: Vec<ExportFile>,
    pub error: Option<String>,
    pub resources: i64,
    requester: Ctx,
}

impl BulkExport {
    fn from_row(row: bulk_export::Model) -> Result<Self, AppError> {
        let scope = match (row.scope.as_str(), row.group_id) {
            ("group", Some(g)) => ExportScope::Group(g),
            ("patient", _) => ExportScope::Patients,
            _ => ExportScope::System,
        };
        let status = match row.status.as_str() {
            q::IN_PROGRESS => ExportStatus::InProgress,
            "complete" => ExportStatus::Complete,
            "cancelled" => ExportStatus::Cancelled,
            _ => ExportStatus::Failed,
        };
        let output = serde_json::from_str(&row.output)
            .map_err(|e| AppError::Internal(format!("export {}: bad output: {e}", row.id)))?;
        let requester = if row.requester_id.is_nil() {
            Ctx::operator()
        } else {
            Ctx::new(
                Actor::User(CurrentUser {
                    id: UserId::from_uuid(row.requester_id),
                    username: Username::parse(&row.requester_name)
                        .map_err(|e| AppError::Internal(format!("export {}: requester: {e:?}", row.id)))?,
                    display_name: String::new(),
                    roles: row.requester_roles.split(',').filter_map(|r| r.parse::<Role>().ok()).collect(),
                    gate: None,
                    scope: None,
                    two_factor_enabled: false,
                    patient_id: None,
                    smart: None,
                }),
                Default::default(),
            )
        };
        Ok(Self {
            id: row.id,
            request: row.request,
            scope,
            types: row.types.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
            since: row.since,
            status,
            transaction_time: row.transaction_time,
            cursor: row.cursor,
            output,
            error: row.error,
            resources: row.resources,
            requester,
        })
    }

    fn requested_by(&self, ctx: &Ctx) -> bool {
        match (&ctx.actor, &self.requester.actor) {
            (Actor::User(a), Actor::User(b)) => a.id == b.id,
            (Actor::Operator, Actor::Operator) => true,
            _ => false,
        }
    }
}

/// What one page of a table is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Patients,
    Encounters,
    Diagnoses,
    Allergies,
    Immunizations,
    Vitals,
    Prescriptions,
    /// Laboratory orders (what was asked for).
    LabOrders,
    /// Laboratory orders with their released results (the reports).
    LabReports,
    /// Released laboratory results.
    LabResults,
    Specimens,
    /// Doses given on the ward, with the orders they were given against.
    Administrations,
    Appointments,
    Documents,
    Charges,
}

impl Source {
    fn audited_as(self) -> (&'static str, &'static str) {
        match self {
            Source::Patients => ("export.read", "patient"),
            Source::Encounters => ("export.read", "encounters"),
            Source::Diagnoses => ("export.read", "diagnoses"),
            Source::Allergies => ("export.read", "allergies"),
            Source::Immunizations => ("export.read", "immunizations"),
            Source::Vitals => ("export.read", "vitals"),
            Source::Prescriptions => ("export.read", "prescriptions"),
            Source::LabOrders | Source::LabReports => ("export.read", "lab_orders"),
            Source::LabResults => ("export.read", "lab_results"),
            Source::Specimens => ("export.read", "specimens"),
            Source::Administrations => ("export.read", "administrations"),
            Source::Appointments => ("export.read", "appointments"),
            Source::Documents => ("export.read", "attachments"),
            Source::Charges => ("export.read", "charges"),
        }
    }
}

/// A page of one source: its rows (in the field for the source) and the id to read on
/// from; `rows` below the page size means the source is done.
#[derive(Debug, Default)]
pub struct ExportPage {
    pub patients: Vec<Patient>,
    pub record: super::PatientRecord,
    pub rows: usize,
    pub last: Option<Uuid>,
}

impl crate::Interop<'_> {
    /// Records an export and queues its job, in one transaction. A group must be a ward.
    /// The operator at the console may export too (it is recorded as the requester).
    pub async fn start_export(&self, ctx: &Ctx, req: ExportRequest) -> Result<BulkExport, AppError> {
        self.authorize(ctx, Permission::InteropExport).await?;
        let (requester_id, requester_name, requester_roles) = match &ctx.actor {
            Actor::User(u) => (
                u.id.as_uuid(),
                u.username.to_string(),
                u.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(","),
            ),
            Actor::Operator => (Uuid::nil(), "operator".to_owned(), String::new()),
            Actor::Anonymous => return Err(AppError::Unauthenticated),
        };
        let now = Utc::now();
        let txn = self.db.begin_write().await?;
        if let ExportScope::Group(g) = req.scope {
            salus_db::inpatient::find_ward(&txn, g).await?.ok_or(AppError::NotFound("group"))?;
        }
        let row = bulk_export::Model {
            id: Uuid::now_v7(),
            requester_id,
            requester_name,
            requester_roles,
            request: req.request,
            scope: req.scope.as_str().into(),
            group_id: match req.scope {
                ExportScope::Group(g) => Some(g),
                _ => None,
            },
            types: req.types.join(","),
            since: req.since,
            status: q::IN_PROGRESS.into(),
            transaction_time: now,
            cursor: "{}".into(),
            output: "[]".into(),
            error: None,
            resources: 0,
            created_at: now,
            updated_at: now,
        };
        q::insert(&txn, row.clone()).await?;
        if req.queue {
            let job = crate::jobs::new_job(EXPORT_JOB, json!({ "export_id": row.id }), now);
            salus_db::jobs::enqueue(&txn, job).await?;
        }
        let event = Event::new("export.start", "bulk_export", Some(row.id.to_string())).detail(
            json!({ "scope": row.scope, "group": row.group_id, "types": row.types, "since": row.since }),
        );
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        BulkExport::from_row(row)
    }

    /// An export, to the user who asked for it (anyone else: not found).
    pub async fn export(&self, ctx: &Ctx, id: Uuid) -> Result<BulkExport, AppError> {
        self.authorize(ctx, Permission::InteropExport).await?;
        let row = q::find(self.db.reader(), id).await?.ok_or(AppError::NotFound("export"))?;
        let export = BulkExport::from_row(row)?;
        if !export.requested_by(ctx) {
            return Err(AppError::NotFound("export"));
        }
        Ok(export)
    }

    /// Stops a running export (its job stops at its next page) or forgets a finished
    /// one; either way its files are no longer served.
    pub async fn cancel_export(&self, ctx: &Ctx, id: Uuid) -> Result<(), AppError> {
        let export = self.export(ctx, id).await?;
        let txn = self.db.begin_write().await?;
        q::finish(&txn, id, "cancelled", None, Utc::now()).await?;
        if export.status != ExportStatus::InProgress {
            q::delete(&txn, id).await?;
        }
        audit::record(&txn, ctx, Event::new("export.cancel", "bulk_export", Some(id.to_string()))).await?;
        txn.commit().await?;
        Ok(())
    }

    /// One of a finished export's files, to its requester; the download is audited.
    pub async fn export_file(&self, ctx: &Ctx, id: Uuid, sha256: &str) -> Result<Vec<u8>, AppError> {
        let export = self.export(ctx, id).await?;
        if export.status != ExportStatus::Complete || !export.output.iter().any(|f| f.sha256 == sha256) {
            return Err(AppError::NotFound("file"));
        }
        let event = Event::new("export.download", "bulk_export", Some(id.to_string()))
            .detail(json!({ "file": sha256 }));
        self.reads.record(vec![audit::row(ctx, event)]).await?;
        self.files.get(sha256).await
    }

    /// The export a job works, if it is still to be worked.
    pub async fn export_for_job(&self, id: Uuid) -> Result<Option<BulkExport>, AppError> {
        let Some(row) = q::find(self.db.reader(), id).await? else { return Ok(None) };
        let export = BulkExport::from_row(row)?;
        Ok((export.status == ExportStatus::InProgress).then_some(export))
    }

    /// The patients a group export takes (fixed when its job starts); none for the others.
    pub async fn export_members(&self, export: &BulkExport) -> Result<Option<Vec<Uuid>>, AppError> {
        let ExportScope::Group(ward) = export.scope else { return Ok(None) };
        let stays = salus_db::inpatient::in_house(self.db.reader(), Some(ward)).await?;
        Ok(Some(stays.into_iter().map(|s| s.patient_id).collect()))
    }

    /// A page of `source` after `after`, its patients' reads audited (as the requester,
    /// one event per patient and source) and committed before it is returned.
    pub async fn export_page(
        &self,
        export: &BulkExport,
        source: Source,
        after: Option<Uuid>,
        members: Option<&[Uuid]>,
        limit: u64,
    ) -> Result<ExportPage, AppError> {
        let scan = Scan { after, patients: members, since: export.since, limit };
        let conn = self.db.reader();
        let mut page = ExportPage::default();
        page.record.currency = self.currency;
        let mut owners: Vec<Uuid>;
        macro_rules! read {
            ($field:ident, $entity:ident, $changed:ident, $cond:expr) => {{
                let rows = q::scan::<$entity::Entity, _>(
                    conn,
                    ($entity::Column::Id, $entity::Column::PatientId, $entity::Column::$changed),
                    $cond,
                    scan,
                )
                .await?;
                page.rows = rows.len();
                page.last = rows.last().map(|r| r.id);
                owners = rows.iter().map(|r| r.patient_id).collect();
                page.record.$field = crate::records(rows);
            }};
        }
        match source {
            Source::Patients => {
                let rows = q::scan_patients(conn, scan).await?;
                page.rows = rows.len();
                page.last = rows.last().map(|r| r.id);
                owners = rows.iter().map(|r| r.id).collect();
                let mut whole = salus_db::patients::find_whole_patients(&self.db, &owners).await?;
                whole.sort_by_key(|w| w.row.id);
                page.patients = whole.into_iter().map(crate::patients::to_whole_patient).collect();
            }
            Source::Encounters => read!(encounters, encounter, UpdatedAt, Condition::all()),
            Source::Diagnoses => read!(diagnoses, diagnosis, RecordedAt, Condition::all()),
            Source::Allergies => read!(allergies, allergy, RecordedAt, Condition::all()),
            Source::Immunizations => read!(immunizations, immunization, RecordedAt, Condition::all()),
            Source::Vitals => read!(vitals, vital, RecordedAt, Condition::all()),
            Source::Prescriptions => read!(prescriptions, prescription, UpdatedAt, Condition::all()),
            Source::LabOrders => read!(lab_orders, lab_order, UpdatedAt, Condition::all()),
            Source::LabReports => {
                read!(lab_orders, lab_order, UpdatedAt, Condition::all());
                let ids: Vec<Uuid> = page.record.lab_orders.iter().map(|o: &LabOrder| o.id).collect();
                page.record.lab_results = crate::records(q::released_results_of_orders(conn, &ids).await?);
            }
            Source::LabResults => read!(lab_results, lab_result, EnteredAt, q::released()),
            Source::Specimens => {
                read!(specimens, lab_specimen, CollectedAt, Condition::all());
                let ids: Vec<Uuid> = page.record.specimens.iter().map(|s| s.id).collect();
                page.record.lab_orders = crate::records(q::orders_of_specimens(conn, &ids).await?);
            }
            Source::Administrations => {
                read!(administrations, medication_administration, RecordedAt, Condition::all());
                let ids: Vec<Uuid> = page.record.administrations.iter().map(|a| a.order_id).collect();
                page.record.medication_orders = crate::records(q::medication_orders(conn, &ids).await?);
            }
            Source::Appointments => {
                let rows = q::scan::<appointment::Entity, _>(
                    conn,
                    (appointment::Column::Id, appointment::Column::PatientId, appointment::Column::UpdatedAt),
                    Condition::all(),
                    scan,
                )
                .await?;
                page.rows = rows.len();
                page.last = rows.last().map(|r| r.id);
                owners = rows.iter().map(|r| r.patient_id).collect();
                page.record.appointments = rows
                    .into_iter()
                    .map(crate::scheduling::Appointment::try_from)
                    .collect::<Result<_, _>>()?;
            }
            Source::Documents => read!(documents, attachment, UploadedAt, Condition::all()),
            Source::Charges => read!(charges, charge, CreatedAt, Condition::all()),
        }
        owners.sort_unstable();
        owners.dedup();
        let (action, object) = source.audited_as();
        let events = owners
            .iter()
            .map(|&p| {
                let event = Event::new(action, object, Some(PatientId::from_uuid(p).to_string()))
                    .patient(p)
                    .detail(json!({ "export": export.id }));
                audit::row(&export.requester, event)
            })
            .collect::<Vec<_>>();
        if !events.is_empty() {
            self.reads.record(events).await?;
        }
        Ok(page)
    }

    /// Stores one of an export's files (by content, like attachments) and returns its name.
    pub async fn store_export_file(&self, bytes: &[u8]) -> Result<String, AppError> {
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(bytes));
        self.files.put(&sha, bytes).await?;
        Ok(sha)
    }

    /// Records where a running export stands; false when it was cancelled meanwhile.
    pub async fn advance_export(
        &self,
        export: &BulkExport,
        cursor: &str,
        output: &[ExportFile],
        resources: i64,
    ) -> Result<bool, AppError> {
        let output = serde_json::to_string(output).map_err(|e| AppError::Internal(e.to_string()))?;
        let txn = self.db.begin_write().await?;
        let running = q::advance(&txn, export.id, cursor, &output, resources, Utc::now()).await?;
        txn.commit().await?;
        Ok(running)
    }

    /// Marks a running export complete (or failed, with why).
    pub async fn finish_export(&self, export: &BulkExport, error: Option<&str>) -> Result<(), AppError> {
        let txn = self.db.begin_write().await?;
        let status = if error.is_some() { "failed" } else { "complete" };
        q::finish(&txn, export.id, status, error, Utc::now()).await?;
        txn.commit().await?;
        Ok(())
    }
}
