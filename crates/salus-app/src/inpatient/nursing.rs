//! The ward's records of a stay: the discharge summary — drawn from the stay (its
//! diagnoses, procedures, key results and the medicines the patient goes home on), edited
//! by the doctor, signed like a note and never changed after — and the nurses' notes per
//! shift, intake and output with the day's balance, and nursing tasks with due times (a
//! task tied to a price-list service becomes one unbilled charge when done).

use chrono::{DateTime, Duration, Utc};
use salus_core::FieldError;
use salus_core::inpatient::Admission;
use salus_core::inpatient::mar::{OrderKind, OrderStatus};
use salus_core::inpatient::nursing::{
    Direction, DischargeSummary, INTAKE_ROUTES, IntakeOutput, NursingNote, NursingTask, OUTPUT_ROUTES, Shift,
    SummaryStatus, TaskStatus, fluid_balance,
};
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_db::ResultExt;
use salus_db::entity::{admission, discharge_summary, intake_output, nursing_note, nursing_task};
use salus_db::inpatient as q;
use salus_db::inpatient::nursing as n;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

use super::me;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::laboratory::LabPatient;
use crate::patients::{PatientAction, timeline_row};
use crate::{AppError, Ctx};

/// What a done nursing task's charge is recorded against.
pub const TASK_CHARGE_SOURCE: &str = "nursing_task";

/// The parts of a discharge summary, as the doctor edits them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SummaryText {
    pub diagnoses: String,
    pub procedures: String,
    pub key_results: String,
    pub medicines: String,
    pub follow_up: String,
    pub instructions: String,
}

/// A stay's discharge summary, with whom it names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SummaryView {
    pub admission: Admission,
    pub patient: LabPatient,
    /// None until a doctor drafts it.
    pub summary: Option<DischargeSummary>,
    pub names: HashMap<Uuid, String>,
}

impl SummaryView {
    pub fn name(&self, id: Option<Uuid>) -> &str {
        id.and_then(|i| self.names.get(&i)).map_or("—", String::as_str)
    }
}

/// A measured volume.
#[derive(Debug, Clone)]
pub struct IoInput {
    pub direction: Direction,
    pub route: String,
    pub volume_ml: i32,
    /// Default: now.
    pub measured_at: Option<DateTime<Utc>>,
    pub note: String,
}

/// A task to do.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub description: String,
    pub due_at: Option<DateTime<Utc>>,
    /// A price-list service it charges when done.
    pub service_code: String,
}

/// A stay's nursing record.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NursingRecord {
    pub notes: Vec<NursingNote>,
    pub io: Vec<IntakeOutput>,
    pub tasks: Vec<NursingTask>,
    /// Millilitres in, out, and the balance, over the last 24 hours.
    pub balance_24h: (i64, i64, i64),
    pub names: HashMap<Uuid, String>,
}

impl NursingRecord {
    pub fn name(&self, id: Option<Uuid>) -> &str {
        id.and_then(|i| self.names.get(&i)).map_or("—", String::as_str)
    }
}

fn text(raw: &str, field: &'static str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let t = raw.trim();
    if t.chars().count() > max {
        errors.push(FieldError::new(field, format!("at most {max} characters")));
    }
    t.to_owned()
}

impl crate::Inpatient<'_> {
    /// A stay, checked to be the caller's to see (or, with `Edit`, to write into).
    async fn stay_of(&self, ctx: &Ctx, id: Uuid) -> Result<(admission::Model, LabPatient), AppError> {
        let stay = q::find_admission(self.db.reader(), id).await?.ok_or(AppError::NotFound("admission"))?;
        let p = self.patients().load_for(ctx, stay.patient_id.into(), PatientAction::Read).await?;
        Ok((stay, LabPatient::from(&p)))
    }

    /// The stay's discharge summary, or nothing yet (an audited read).
    pub async fn discharge_summary(&self, ctx: &Ctx, admission: Uuid) -> Result<SummaryView, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let (stay, patient) = self.stay_of(ctx, admission).await?;
        let summary = n::summary_of(self.db.reader(), stay.id).await?;
        let people: Vec<Uuid> =
            summary.iter().flat_map(|s| [Some(s.drafted_by), s.signed_by]).flatten().collect();
        let names =
            salus_db::identity::display_names_of(self.db.reader(), &people).await?.into_iter().collect();
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("inpatient.summary.read", "admission", Some(stay.id.to_string()))
                    .patient(patient.id),
            )])
            .await?;
        Ok(SummaryView { admission: stay.into(), patient, summary: summary.map(Into::into), names })
    }

    /// What the stay says, for a new draft: the admission's diagnosis and those recorded
    /// in the stay, the examinations done, the abnormal results (or the latest), and the
    /// medicines still ordered.
    async fn drawn(&self, stay: &admission::Model) -> Result<SummaryText, AppError> {
        let conn = self.db.reader();
        let since = stay.admitted_at - Duration::hours(24);
        let (diagnoses, imaging, results, orders) = tokio::try_join!(
            salus_db::clinical::diagnoses_of(conn, stay.patient_id),
            salus_db::imaging::orders_of(conn, stay.patient_id, 50),
            salus_db::laboratory::results_of(conn, stay.patient_id, true, 200),
            salus_db::inpatient::mar::orders_of(conn, stay.id),
        )?;
        let mut dx = vec![format!("{} (admission)", stay.diagnosis)];
        dx.extend(
            diagnoses
                .iter()
                .filter(|d| d.encounter_id == Some(stay.encounter_id) || d.recorded_at >= stay.admitted_at)
                .filter(|d| d.error_reason.is_none())
                .map(|d| format!("{} ({})", d.description, d.code)),
        );
        let procedures: Vec<String> = imaging
            .iter()
            .filter(|o| o.created_at >= since)
            .map(|o| format!("{} — {}", o.procedure_name, o.status.words()))
            .collect();
        let during: Vec<&salus_db::entity::lab_result::Model> =
            results.iter().filter(|r| r.collected_at >= since).collect();
        let abnormal: Vec<_> = during.iter().copied().filter(|r| r.flag.is_some()).collect();
        let picked = if abnormal.is_empty() { during.into_iter().take(5).collect() } else { abnormal };
        let shown: Vec<String> = picked
            .iter()
            .map(|r| {
                let value = r.value_num.map_or_else(
                    || r.value_text.clone().unwrap_or_default(),
                    |v| format!("{v:.*}", r.decimals.max(0) as usize),
                );
                let flag = r.flag.map(|f| format!(" ({})", f.words())).unwrap_or_default();
                format!(
                    "{} {} {}{} — {}",
                    r.analyte,
                    value,
                    r.unit.clone().unwrap_or_default(),
                    flag,
                    r.collected_at.format("%d %b")
                )
            })
            .collect();
        let medicines: Vec<String> = orders
            .iter()
            .filter(|o| o.status == OrderStatus::Active && o.kind != OrderKind::OnceNow)
            .map(|o| {
                let when = if o.kind == OrderKind::AsNeeded {
                    "as needed".to_owned()
                } else {
                    format!("at {}", o.times.replace(',', ", "))
                };
                format!("{} {} {} {}", o.medicine_name, o.dose, o.route, when)
            })
            .collect();
        Ok(SummaryText {
            diagnoses: dx.join("\n"),
            procedures: procedures.join("\n"),
            key_results: shown.join("\n"),
            medicines: medicines.join("\n"),
            follow_up: String::new(),
            instructions: String::new(),
        })
    }

    /// A doctor starts the stay's discharge summary, drawn from the stay.
    pub async fn draft_summary(&self, ctx: &Ctx, admission: Uuid) -> Result<DischargeSummary, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let (stay, p) = self.stay_of(ctx, admission).await?;
        let t = self.drawn(&stay).await?;
        let now = Utc::now();
        let row = discharge_summary::Model {
            id: Uuid::now_v7(),
            admission_id: stay.id,
            patient_id: p.id,
            diagnoses: t.diagnoses,
            procedures: t.procedures,
            key_results: t.key_results,
            medicines: t.medicines,
            follow_up: t.follow_up,
            instructions: t.instructions,
            status: SummaryStatus::Draft,
            drafted_by: me(ctx)?,
            drafted_at: now,
            signed_by: None,
            signed_at: None,
            version: 1,
            updated_at: now,
        };
        let txn = self.db.begin_write().await?;
        n::insert_summary(&txn, row.clone()).await.on_unique(
            "discharge_summaries_admission_key",
            "discharge_summaries.admission_id",
            || AppError::Conflict(format!("{} already has a discharge summary; edit it", stay.number)),
        )?;
        let event = Event::new("inpatient.summary.draft", "discharge_summary", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "admission": stay.number }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A doctor edits the draft seen at `version`.
    pub async fn save_summary(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        input: SummaryText,
        version: i32,
    ) -> Result<DischargeSummary, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let (stay, p) = self.stay_of(ctx, admission).await?;
        let mut row =
            n::summary_of(self.db.reader(), stay.id).await?.ok_or(AppError::NotFound("discharge summary"))?;
        if row.status == SummaryStatus::Signed {
            return Err(AppError::Conflict("the summary is signed; it is not changed".into()));
        }
        let mut errors = Vec::new();
        row.diagnoses = text(&input.diagnoses, "diagnoses", 4000, &mut errors);
        row.procedures = text(&input.procedures, "procedures", 4000, &mut errors);
        row.key_results = text(&input.key_results, "key_results", 4000, &mut errors);
        row.medicines = text(&input.medicines, "medicines", 4000, &mut errors);
        row.follow_up = text(&input.follow_up, "follow_up", 2000, &mut errors);
        row.instructions = text(&input.instructions, "instructions", 4000, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let txn = self.db.begin_write().await?;
        if !n::save_summary(&txn, &row, version).await? {
            return Err(crate::organisation::stale("discharge summary"));
        }
        let event =
            Event::new("inpatient.summary.edit", "discharge_summary", Some(row.id.to_string())).patient(p.id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n::summary_of(self.db.reader(), stay.id)
            .await?
            .ok_or(AppError::NotFound("discharge summary"))?
            .into())
    }

    /// A doctor signs the draft seen at `version`: it needs its diagnoses and the
    /// patient's instructions, and is never changed after.
    pub async fn sign_summary(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        version: i32,
    ) -> Result<DischargeSummary, AppError> {
        self.authorize(ctx, Permission::InpatientOrder).await?;
        let (stay, p) = self.stay_of(ctx, admission).await?;
        let row =
            n::summary_of(self.db.reader(), stay.id).await?.ok_or(AppError::NotFound("discharge summary"))?;
        if row.status == SummaryStatus::Signed {
            return Err(AppError::Conflict("the summary is already signed".into()));
        }
        let mut errors = Vec::new();
        if row.diagnoses.trim().is_empty() {
            errors.push(FieldError::new("diagnoses", "a summary names the diagnoses"));
        }
        if row.instructions.trim().is_empty() {
            errors.push(FieldError::new("instructions", "say what the patient does at home"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let txn = self.db.begin_write().await?;
        if !n::sign_summary(&txn, row.id, version, me(ctx)?, Utc::now()).await? {
            return Err(crate::organisation::stale("discharge summary"));
        }
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(p.id, "admission", format!("Discharge summary signed — {}", stay.number), ctx)],
        )
        .await?;
        let event =
            Event::new("inpatient.summary.sign", "discharge_summary", Some(row.id.to_string())).patient(p.id);
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n::summary_of(self.db.reader(), stay.id)
            .await?
            .ok_or(AppError::NotFound("discharge summary"))?
            .into())
    }

    /// The stay's nurses' notes, intake and output, and tasks (an audited read).
    pub async fn nursing_record(&self, ctx: &Ctx, admission: Uuid) -> Result<NursingRecord, AppError> {
        self.authorize(ctx, Permission::InpatientRead).await?;
        let (stay, patient) = self.stay_of(ctx, admission).await?;
        let conn = self.db.reader();
        let (notes, io, tasks) = tokio::try_join!(
            n::notes_of(conn, stay.id),
            n::io_of(conn, stay.id),
            n::tasks_of(conn, stay.id)
        )?;
        let mut people: Vec<Uuid> = notes.iter().map(|x| x.author_id).collect();
        people.extend(io.iter().map(|x| x.recorded_by));
        people.extend(tasks.iter().flat_map(|t| [Some(t.created_by), t.done_by]).flatten());
        people.sort();
        people.dedup();
        let names = salus_db::identity::display_names_of(conn, &people).await?.into_iter().collect();
        self.reads
            .record(vec![audit::row(
                ctx,
                Event::new("inpatient.nursing.read", "admission", Some(stay.id.to_string()))
                    .patient(patient.id),
            )])
            .await?;
        let io: Vec<IntakeOutput> = crate::records(io);
        let day_ago = Utc::now() - Duration::hours(24);
        let recent: Vec<IntakeOutput> = io.iter().filter(|e| e.measured_at >= day_ago).cloned().collect();
        Ok(NursingRecord {
            notes: crate::records(notes),
            balance_24h: fluid_balance(&recent),
            io,
            tasks: crate::records(tasks),
            names,
        })
    }

    /// A stay still in the house, for a nurse's record.
    async fn open_stay(
        &self,
        ctx: &Ctx,
        admission: Uuid,
    ) -> Result<(admission::Model, LabPatient), AppError> {
        self.authorize(ctx, Permission::NursingRecord).await?;
        let (stay, p) = self.stay_of(ctx, admission).await?;
        if !stay.status.in_house() {
            return Err(AppError::Conflict(format!(
                "{} has left; the ward's record of the stay is closed",
                stay.number
            )));
        }
        Ok((stay, p))
    }

    /// A nurse writes the shift's note (or one that corrects an earlier note of the stay).
    pub async fn write_nursing_note(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        body: &str,
        amends: Option<Uuid>,
    ) -> Result<NursingNote, AppError> {
        let (stay, p) = self.open_stay(ctx, admission).await?;
        let body = body.trim();
        if body.is_empty() || body.chars().count() > 4000 {
            return Err(AppError::field("body", "write the note (at most 4000 characters)"));
        }
        if let Some(a) = amends
            && n::find_note(self.db.reader(), a).await?.is_none_or(|x| x.admission_id != stay.id)
        {
            return Err(AppError::field("amends_id", "a note of this stay"));
        }
        let now = Utc::now();
        let row = nursing_note::Model {
            id: Uuid::now_v7(),
            admission_id: stay.id,
            patient_id: p.id,
            shift: Shift::at(now.with_timezone(&self.time_zone).time()),
            body: body.to_owned(),
            amends_id: amends,
            author_id: me(ctx)?,
            written_at: now,
        };
        let txn = self.db.begin_write().await?;
        n::insert_note(&txn, row.clone()).await?;
        let event = Event::new("inpatient.nursing.note", "nursing_note", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "shift": row.shift, "amends": amends }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// A nurse records a volume in or out.
    pub async fn record_io(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        input: IoInput,
    ) -> Result<IntakeOutput, AppError> {
        let (stay, p) = self.open_stay(ctx, admission).await?;
        let mut errors = Vec::new();
        let routes = if input.direction == Direction::Intake { INTAKE_ROUTES } else { OUTPUT_ROUTES };
        let route = input.route.trim().to_lowercase();
        if !routes.contains(&route.as_str()) {
            errors.push(FieldError::new("route", format!("one of {}", routes.join(", "))));
        }
        if !(1..=10_000).contains(&input.volume_ml) {
            errors.push(FieldError::new("volume_ml", "between 1 and 10000 ml"));
        }
        let now = Utc::now();
        let measured_at = input.measured_at.unwrap_or(now);
        if measured_at > now + Duration::minutes(5) || measured_at < stay.admitted_at - Duration::hours(1) {
            errors.push(FieldError::new("measured_at", "during the stay, not in the future"));
        }
        let note =
            parse_optional_label(&input.note, "note", 300).map_err(|e| errors.push(e)).unwrap_or_default();
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let row = intake_output::Model {
            id: Uuid::now_v7(),
            admission_id: stay.id,
            patient_id: p.id,
            direction: input.direction,
            route,
            volume_ml: input.volume_ml,
            measured_at,
            note,
            error_reason: None,
            recorded_by: me(ctx)?,
            recorded_at: now,
        };
        let txn = self.db.begin_write().await?;
        n::insert_io(&txn, row.clone()).await?;
        let event = Event::new("inpatient.nursing.io", "intake_output", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "direction": row.direction, "route": row.route, "ml": row.volume_ml }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Marks a volume entered in error: kept, no longer counted.
    pub async fn io_in_error(&self, ctx: &Ctx, id: Uuid, reason: &str) -> Result<IntakeOutput, AppError> {
        self.authorize(ctx, Permission::NursingRecord).await?;
        let row = n::find_io(self.db.reader(), id).await?.ok_or(AppError::NotFound("intake or output"))?;
        let (_, p) = self.stay_of(ctx, row.admission_id).await?;
        let reason = parse_label(reason, "reason", 300)
            .map_err(|_| FieldError::new("reason", "say what was wrong"))?;
        let txn = self.db.begin_write().await?;
        if !n::io_in_error(&txn, id, &reason).await? {
            return Err(AppError::Conflict("already marked entered in error".into()));
        }
        let event = Event::new("inpatient.nursing.io_error", "intake_output", Some(id.to_string()))
            .patient(p.id)
            .detail(json!({ "reason": reason }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n::find_io(self.db.reader(), id).await?.ok_or(AppError::NotFound("intake or output"))?.into())
    }

    /// A nursing task, due at a time (a price-list service it charges when done).
    pub async fn add_task(
        &self,
        ctx: &Ctx,
        admission: Uuid,
        input: TaskInput,
    ) -> Result<NursingTask, AppError> {
        let (stay, p) = self.open_stay(ctx, admission).await?;
        let mut errors = Vec::new();
        let description = parse_label(&input.description, "description", 300)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let now = Utc::now();
        let due_at = input.due_at.unwrap_or(now);
        if due_at < now - Duration::days(1) || due_at > now + Duration::days(30) {
            errors.push(FieldError::new("due_at", "from yesterday to a month ahead"));
        }
        let code = input.service_code.trim().to_uppercase();
        let service_code = if code.is_empty() {
            None
        } else if salus_db::laboratory::services_by_code(self.db.reader(), std::slice::from_ref(&code))
            .await?
            .is_empty()
        {
            errors.push(FieldError::new("service_code", "a service of the price list, or none"));
            None
        } else {
            Some(code)
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let row = nursing_task::Model {
            id: Uuid::now_v7(),
            admission_id: stay.id,
            patient_id: p.id,
            description,
            due_at,
            service_code,
            status: TaskStatus::Open,
            outcome: None,
            done_by: None,
            done_at: None,
            created_by: me(ctx)?,
            created_at: now,
            version: 1,
        };
        let txn = self.db.begin_write().await?;
        n::insert_task(&txn, row.clone()).await?;
        let event = Event::new("inpatient.nursing.task", "nursing_task", Some(row.id.to_string()))
            .patient(p.id)
            .detail(json!({ "description": row.description, "due_at": row.due_at }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row.into())
    }

    /// Closes an open task: done (its service charged, once) or cancelled with a reason.
    pub async fn close_task(
        &self,
        ctx: &Ctx,
        id: Uuid,
        done: bool,
        outcome: &str,
    ) -> Result<NursingTask, AppError> {
        self.authorize(ctx, Permission::NursingRecord).await?;
        let task = n::find_task(self.db.reader(), id).await?.ok_or(AppError::NotFound("nursing task"))?;
        let (_, p) = self.stay_of(ctx, task.admission_id).await?;
        let outcome = parse_optional_label(outcome, "outcome", 300)?;
        if !done && outcome.is_none() {
            return Err(AppError::field("outcome", "say why the task is not needed"));
        }
        let service = match (&task.service_code, done) {
            (Some(code), true) => {
                salus_db::laboratory::services_by_code(self.db.reader(), std::slice::from_ref(code))
                    .await?
                    .into_iter()
                    .next()
            }
            _ => None,
        };
        let by = me(ctx)?;
        let now = Utc::now();
        let to = if done { TaskStatus::Done } else { TaskStatus::Cancelled };
        let txn = self.db.begin_write().await?;
        if !n::close_task(&txn, id, to, outcome.as_deref(), by, now).await? {
            return Err(AppError::Conflict("the task was already closed".into()));
        }
        if let Some(s) = &service {
            let charge =
                crate::charges::unbilled(s, p.id, &task.description, (TASK_CHARGE_SOURCE, task.id), by, now);
            salus_db::charges::insert_charges(&txn, vec![charge]).await?;
        }
        let event = Event::new("inpatient.nursing.task_close", "nursing_task", Some(id.to_string()))
            .patient(p.id)
            .detail(
                json!({ "status": to, "outcome": outcome, "charged": service.as_ref().map(|s| &s.code) }),
            );
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(n::find_task(self.db.reader(), id).await?.ok_or(AppError::NotFound("nursing task"))?.into())
    }
}
