//! The laboratory: the test catalog, orders from the encounter, specimens with accession
//! numbers, results checked against the patient's reference range, verification by a
//! second person, critical values that reach a doctor and escalate when nobody answers,
//! and the cumulative results a chart shows. Orders, collection and reception live in
//! `orders.rs`; entry, verification, amendment and critical alerts in `results.rs`.

pub mod orders;
pub mod results;

use chrono::Utc;
use salus_core::PatientId;
use salus_core::laboratory::{
    LabOrder, LabResult, LabTest, OrderStatus, ReferenceRange, ResultStatus, Specimen, TestKind,
};
use salus_db::entity::{lab_order, lab_test, patient};
use salus_db::laboratory as q;
use std::collections::HashMap;
use uuid::Uuid;

use crate::identity::Permission;
use crate::{AppError, Ctx};

/// The laboratory's rules a site sets.
#[derive(Debug, Clone)]
pub struct LabSettings {
    /// The same test ordered again within this many hours asks the doctor to confirm.
    pub duplicate_window_hours: i64,
    /// A critical result not acknowledged within this many minutes escalates.
    pub critical_ack_minutes: i64,
}

impl Default for LabSettings {
    fn default() -> Self {
        Self { duplicate_window_hours: 24, critical_ack_minutes: 30 }
    }
}

/// Who a patient is on a lab page: enough to match the tube to the wristband.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LabPatient {
    pub id: Uuid,
    pub mrn: String,
    pub name: String,
    pub sex: String,
    pub birth_date: Option<chrono::NaiveDate>,
}

impl From<&patient::Model> for LabPatient {
    fn from(p: &patient::Model) -> Self {
        Self {
            id: p.id,
            mrn: p.mrn.clone(),
            name: crate::patients::display_name(&p.given_names, &p.family_name),
            sex: p.sex.clone(),
            birth_date: p.birth_date,
        }
    }
}

/// A line of the worklist.
#[derive(Debug, Clone, serde::Serialize)]
pub struct WorkItem {
    pub order: LabOrder,
    pub patient: LabPatient,
    pub section: String,
    pub specimen: Option<Specimen>,
}

/// One analyte of an order line, with its current result if any.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AnalyteLine {
    pub test: LabTest,
    pub result: Option<LabResult>,
    /// The range that applies to this patient now (for entry), as text.
    pub range_text: String,
}

/// An order line with everything the lab and the doctor need to act on it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OrderDetail {
    pub order: LabOrder,
    pub patient: LabPatient,
    pub specimen: Option<Specimen>,
    pub analytes: Vec<AnalyteLine>,
}

/// The states the worklist shows by default: everything not yet released or cancelled.
pub const OPEN: &[OrderStatus] =
    &[OrderStatus::Ordered, OrderStatus::Collected, OrderStatus::Received, OrderStatus::Resulted];

/// The analytes an order of `test` asks for: the test itself, or a panel's members.
pub(crate) async fn analytes_of(
    conn: &impl salus_db::ConnectionTrait,
    tests: &[lab_test::Model],
) -> Result<HashMap<Uuid, Vec<lab_test::Model>>, AppError> {
    let panels: Vec<Uuid> = tests.iter().filter(|t| t.kind == TestKind::Panel).map(|t| t.id).collect();
    let members = if panels.is_empty() { Vec::new() } else { q::panel_members(conn, &panels).await? };
    let member_ids: Vec<Uuid> = members.iter().map(|m| m.member_id).collect();
    let member_tests: HashMap<Uuid, lab_test::Model> = if member_ids.is_empty() {
        HashMap::new()
    } else {
        q::tests_by_ids(conn, &member_ids).await?.into_iter().map(|t| (t.id, t)).collect()
    };
    let mut out = HashMap::new();
    for t in tests {
        let list = if t.kind == TestKind::Panel {
            members
                .iter()
                .filter(|m| m.panel_id == t.id)
                .filter_map(|m| member_tests.get(&m.member_id).cloned())
                .collect()
        } else {
            vec![t.clone()]
        };
        out.insert(t.id, list);
    }
    Ok(out)
}

/// The reference ranges of `tests`, by test.
pub(crate) async fn ranges_by_test(
    conn: &impl salus_db::ConnectionTrait,
    tests: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ReferenceRange>>, AppError> {
    let mut out: HashMap<Uuid, Vec<ReferenceRange>> = HashMap::new();
    for r in q::ranges_of(conn, tests).await? {
        out.entry(r.test_id).or_default().push(r.into());
    }
    Ok(out)
}

/// The caller's user id (a lab action is always someone's).
pub(crate) fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

impl crate::Laboratory<'_> {
    /// Lets the caller in if they hold any of `permissions`; a refusal is audited as
    /// one of the first.
    pub(crate) async fn authorize_any(&self, ctx: &Ctx, permissions: &[Permission]) -> Result<(), AppError> {
        if permissions.iter().any(|p| ctx.actor.require(*p).is_ok()) {
            return Ok(());
        }
        match permissions.first() {
            Some(p) => self.authorize(ctx, *p).await,
            None => Err(AppError::Forbidden),
        }
    }

    /// The patient record behind a lab action, if the caller may act on it with
    /// `permission` (a patient's own account reads its own released results).
    pub(crate) async fn lab_patient(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        permission: Permission,
    ) -> Result<patient::Model, AppError> {
        self.clinical().clinical_patient(ctx, patient, permission).await
    }

    /// The catalog (staff read it; inactive entries for administrators).
    pub async fn catalog(&self, ctx: &Ctx, include_inactive: bool) -> Result<Vec<LabTest>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(crate::records(q::tests(self.db.reader(), include_inactive).await?))
    }

    /// Retires a catalog entry (no longer orderable; past orders and results keep it) or
    /// reactivates it (administrators).
    pub async fn set_test_active(&self, ctx: &Ctx, id: Uuid, active: bool) -> Result<LabTest, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let test = q::find_test(&txn, id).await?.ok_or(AppError::NotFound("test"))?;
        if !q::set_test_active(&txn, id, active).await? {
            return Err(AppError::Conflict(format!(
                "{} is already {}",
                test.name,
                if active { "active" } else { "retired" }
            )));
        }
        let action = if active { "lab.catalog_reactivate" } else { "lab.catalog_retire" };
        let event = crate::audit::Event::new(action, "lab_test", Some(id.to_string()))
            .detail(serde_json::json!({ "code": test.code, "name": test.name }));
        crate::audit::record(&txn, ctx, event).await?;
        let after = q::find_test(&txn, id).await?.ok_or(AppError::NotFound("test"))?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// One catalog entry with its reference ranges and, for a panel, its analytes.
    pub async fn catalog_entry(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(LabTest, Vec<LabTest>, Vec<ReferenceRange>), AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        let conn = self.db.reader();
        let test = q::find_test(conn, id).await?.ok_or(AppError::NotFound("test"))?;
        let members =
            analytes_of(conn, std::slice::from_ref(&test)).await?.remove(&test.id).unwrap_or_default();
        let ranges = crate::records(q::ranges_of(conn, &[test.id]).await?);
        Ok((test.into(), crate::records(members), ranges))
    }

    /// One page of the lab's worklist: open order lines (or those in `statuses`) of one
    /// bench, stat first, then urgent, then oldest, with their patients; `limit` lines
    /// after the first `offset`, and whether more follow. Each line shown is an audited
    /// read of its patient's record.
    pub async fn worklist(
        &self,
        ctx: &Ctx,
        statuses: &[OrderStatus],
        section: Option<&str>,
        limit: u64,
        offset: u64,
    ) -> Result<(Vec<WorkItem>, bool), AppError> {
        self.authorize(ctx, Permission::LabWork).await?;
        let conn = self.db.reader();
        let statuses = if statuses.is_empty() { OPEN } else { statuses };
        let section = section.filter(|s| !s.is_empty());
        let mut orders = q::worklist(conn, statuses, section, limit + 1, offset).await?;
        let more = orders.len() as u64 > limit;
        orders.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let items = self.work_items(orders).await?;
        let events = items
            .iter()
            .map(|i| {
                crate::audit::row(
                    ctx,
                    crate::audit::Event::new("lab.worklist_read", "lab_order", Some(i.order.id.to_string()))
                        .patient(i.patient.id),
                )
            })
            .collect();
        self.reads.record(events).await?;
        Ok((items, more))
    }

    async fn work_items(&self, orders: Vec<lab_order::Model>) -> Result<Vec<WorkItem>, AppError> {
        let conn = self.db.reader();
        let mut patient_ids: Vec<Uuid> = orders.iter().map(|o| o.patient_id).collect();
        patient_ids.sort();
        patient_ids.dedup();
        let mut test_ids: Vec<Uuid> = orders.iter().map(|o| o.test_id).collect();
        test_ids.sort();
        test_ids.dedup();
        let specimen_ids: Vec<Uuid> = orders.iter().filter_map(|o| o.specimen_id).collect();
        let (patients, tests, specimens) = tokio::try_join!(
            salus_db::patients::find_patients(conn, &patient_ids),
            q::tests_by_ids(conn, &test_ids),
            async {
                if specimen_ids.is_empty() {
                    Ok(Vec::new())
                } else {
                    q::specimens_by_ids(conn, &specimen_ids).await
                }
            }
        )?;
        let patients: HashMap<Uuid, patient::Model> = patients.into_iter().map(|p| (p.id, p)).collect();
        let sections: HashMap<Uuid, String> = tests.into_iter().map(|t| (t.id, t.section)).collect();
        let specimens: HashMap<Uuid, Specimen> = specimens.into_iter().map(|s| (s.id, s.into())).collect();
        Ok(orders
            .into_iter()
            .filter_map(|o| {
                let p = patients.get(&o.patient_id)?;
                Some(WorkItem {
                    patient: p.into(),
                    section: sections.get(&o.test_id).cloned().unwrap_or_default(),
                    specimen: o.specimen_id.and_then(|s| specimens.get(&s).cloned()),
                    order: o.into(),
                })
            })
            .collect())
    }

    /// One order line with its patient, specimen and analytes (the lab's entry page and
    /// the doctor's view of it). Audited as a read of the patient's record.
    pub async fn order(&self, ctx: &Ctx, id: Uuid) -> Result<OrderDetail, AppError> {
        let conn = self.db.reader();
        let order = q::find_order(conn, id).await?.ok_or(AppError::NotFound("order"))?;
        let permission = if ctx.actor.require(Permission::LabWork).is_ok() {
            Permission::LabWork
        } else {
            Permission::ClinicalRead
        };
        let p = self.lab_patient(ctx, PatientId::from_uuid(order.patient_id), permission).await?;
        let detail = self.detail(order, &p).await?;
        if crate::Clinical::reads_as_patient(ctx) && detail.order.status != OrderStatus::Verified {
            return Err(AppError::NotFound("order"));
        }
        let event = crate::audit::Event::new("lab.read", "lab_order", Some(id.to_string())).patient(p.id);
        self.reads.record(vec![crate::audit::row(ctx, event)]).await?;
        Ok(detail)
    }

    pub(crate) async fn detail(
        &self,
        order: lab_order::Model,
        p: &patient::Model,
    ) -> Result<OrderDetail, AppError> {
        let conn = self.db.reader();
        let test = q::find_test(conn, order.test_id).await?.ok_or(AppError::NotFound("test"))?;
        let analytes =
            analytes_of(conn, std::slice::from_ref(&test)).await?.remove(&test.id).unwrap_or_default();
        let ids: Vec<Uuid> = analytes.iter().map(|a| a.id).collect();
        let (ranges, results, specimen) = tokio::try_join!(
            ranges_by_test(conn, &ids),
            async { Ok(q::current_results(conn, &[order.id]).await?) },
            async {
                Ok::<_, AppError>(match order.specimen_id {
                    Some(s) => q::find_specimen(conn, s).await?,
                    None => None,
                })
            }
        )?;
        let sex = p.sex.parse().unwrap_or(salus_core::patients::Sex::Unknown);
        let at = specimen.as_ref().map_or_else(Utc::now, |s| s.collected_at);
        let age = p.birth_date.map(|b| salus_core::laboratory::age_in_days(b, at));
        let analytes = analytes
            .into_iter()
            .map(|a| {
                let range_text = age
                    .and_then(|age| {
                        ranges.get(&a.id).and_then(|r| salus_core::laboratory::select_range(r, sex, age))
                    })
                    .map(|r| r.text(a.decimals))
                    .unwrap_or_default();
                let result = results.iter().find(|r| r.test_id == a.id).cloned().map(Into::into);
                AnalyteLine { test: a.into(), result, range_text }
            })
            .collect();
        Ok(OrderDetail {
            order: order.into(),
            patient: p.into(),
            specimen: specimen.map(Into::into),
            analytes,
        })
    }

    /// A patient (as the lab names them) and their orders, newest first (clinicians; the
    /// lab; a patient's own account sees its released ones).
    pub async fn orders_of(
        &self,
        ctx: &Ctx,
        patient: PatientId,
    ) -> Result<(LabPatient, Vec<LabOrder>), AppError> {
        let permission = if ctx.actor.require(Permission::LabWork).is_ok() {
            Permission::LabWork
        } else {
            Permission::ClinicalRead
        };
        let p = self.lab_patient(ctx, patient, permission).await?;
        let mut rows = q::orders_of(self.db.reader(), patient.as_uuid(), 500).await?;
        if crate::Clinical::reads_as_patient(ctx) {
            rows.retain(|o| o.status == OrderStatus::Verified);
        }
        let event = crate::audit::Event::new("lab.read", "lab_orders", Some(patient.to_string()))
            .patient(patient.as_uuid());
        self.reads.record(vec![crate::audit::row(ctx, event)]).await?;
        Ok((LabPatient::from(&p), crate::records(rows)))
    }

    /// A patient's released results, newest first — the cumulative table and the trends
    /// are drawn from these. A patient's own account reads its own.
    pub async fn results_of(&self, ctx: &Ctx, patient: PatientId) -> Result<Vec<LabResult>, AppError> {
        self.lab_patient(ctx, patient, Permission::ClinicalRead).await?;
        let rows = q::results_of(self.db.reader(), patient.as_uuid(), true, 2000).await?;
        let event = crate::audit::Event::new("lab.read", "lab_results", Some(patient.to_string()))
            .patient(patient.as_uuid());
        self.reads.record(vec![crate::audit::row(ctx, event)]).await?;
        Ok(crate::records(rows))
    }

    /// Every revision of one result, newest first (a corrected result's history).
    pub async fn revisions(&self, ctx: &Ctx, result: Uuid) -> Result<Vec<LabResult>, AppError> {
        let conn = self.db.reader();
        let r = q::find_result(conn, result).await?.ok_or(AppError::NotFound("result"))?;
        self.lab_patient(ctx, PatientId::from_uuid(r.patient_id), Permission::ClinicalRead).await?;
        let rows: Vec<LabResult> = crate::records(q::revisions(conn, r.order_id, r.test_id).await?);
        let rows: Vec<LabResult> = if crate::Clinical::reads_as_patient(ctx) {
            rows.into_iter().filter(|r| r.status != ResultStatus::Preliminary).collect()
        } else {
            rows
        };
        let event = crate::audit::Event::new("lab.read", "lab_result", Some(result.to_string()))
            .patient(r.patient_id);
        self.reads.record(vec![crate::audit::row(ctx, event)]).await?;
        Ok(rows)
    }
}
