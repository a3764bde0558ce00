//! The candidates a FHIR search looks through, chosen so no search scans the hospital:
//! a Patient search's matches in the patient index, a clinical search's patients, the
//! staff, a Slot search's days, the audit trail of one patient or one agent.

use salus_app::interop::Part;
use salus_app::organisation::StaffQuery;
use salus_app::patients::Patient;
use salus_app::{AppError, Ctx};
use salus_core::PatientId;
use salus_core::page::PageRequest;
use serde_json::Value;
use uuid::Uuid;

use super::{TOO_COSTLY, own_patient, resources, search};
use crate::AppState;
use crate::error::ApiError;

/// Candidates of a Patient search: the index's matches for the names, identifiers,
/// telephones, e-mails and birth dates given, or the ids. In id order with nothing else
/// asked of the whole set (a total, another order, a reverse chain), only the records
/// a page needs are read: in id order from the cursor on, until one more than the page
/// matches every criterion.
pub(super) async fn patient_candidates(
    state: &AppState,
    ctx: &Ctx,
    q: &search::Query,
) -> Result<Vec<Patient>, ApiError> {
    let patients = state.app.patients();
    if let Some(own) = own_patient(ctx) {
        return match own {
            Some(own) => Ok(vec![patients.patient(ctx, own).await?]),
            None => Ok(Vec::new()),
        };
    }
    if let Some(ids) = q.values_of("_id") {
        let mut out = Vec::new();
        for id in ids {
            let Ok(uuid) = Uuid::parse_str(id) else { continue };
            match patients.patient(ctx, PatientId::from_uuid(uuid)).await {
                Ok(p) => out.push(p),
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(out);
    }
    // Each value the index can find by, searched on its own: the criteria then keep
    // those matching every parameter.
    let mut texts: Vec<String> = Vec::new();
    for code in ["identifier", "name", "family", "given", "phone", "telecom", "email", "birthdate"] {
        for c in q.criteria.iter().filter(|c| {
            c.param.code == code
                && c.chain.is_none()
                && !matches!(c.modifier.as_deref(), Some("missing" | "not"))
        }) {
            for v in &c.values {
                let v = v.rsplit('|').next().unwrap_or(v);
                let v = if code == "birthdate" {
                    v.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                } else {
                    v
                };
                if !v.is_empty() {
                    texts.push(v.to_owned());
                }
            }
        }
        if !texts.is_empty() {
            break;
        }
    }
    if texts.is_empty() {
        return Err(ApiError::new(
            TOO_COSTLY,
            "a Patient search names a name, family, given, identifier, phone, telecom, email, birthdate or _id",
        ));
    }
    let mut ids: Vec<Uuid> = Vec::new();
    for text in texts {
        ids.extend(patients.search_patient_ids(ctx, &text, PATIENT_CANDIDATES).await?);
    }
    ids.sort();
    ids.dedup();
    let whole_set = !q.sort.is_empty()
        || q.total
        || q.summary == search::Summary::Count
        || !q.has.is_empty()
        || q.criteria.iter().any(|c| c.chain.is_some());
    if whole_set {
        return Ok(patients.patients_listed(ctx, &ids).await?);
    }
    if let Some(after) = q.after.as_ref().and_then(|c| Uuid::parse_str(c.id()).ok()) {
        ids.retain(|id| *id > after);
    }
    let none = |_: &str| None;
    let (mut out, mut matched) = (Vec::new(), 0);
    for chunk in ids.chunks((q.count + 1).max(8)) {
        for p in patients.patients_listed(ctx, chunk).await? {
            if q.matches(&resources::patient(&p), &none) {
                matched += 1;
            }
            out.push(p);
        }
        if matched > q.count {
            break;
        }
    }
    Ok(out)
}

/// Every member of staff, retired ones too, read a page at a time.
pub(super) async fn staff(
    app: &salus_app::App,
    ctx: &Ctx,
) -> Result<Vec<salus_app::organisation::StaffMember>, ApiError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .organisation()
            .staff(
                ctx,
                &StaffQuery { include_inactive: true, ..Default::default() },
                PageRequest { after, limit: 200 },
            )
            .await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    Ok(out)
}

/// The days a Slot search looks through: from its `start` bounds (from today and for two
/// weeks when it gives none), at most 31 days.
pub(super) fn slot_window(
    q: &search::Query,
    today: chrono::NaiveDate,
) -> Result<(chrono::NaiveDate, u32), ApiError> {
    let (mut from, mut to) = (None::<chrono::NaiveDate>, None::<chrono::NaiveDate>);
    for v in
        q.criteria.iter().filter(|c| c.param.code == "start" && c.chain.is_none()).flat_map(|c| &c.values)
    {
        let (prefix, rest) = search::prefixed(v);
        let Some(day) = rest.get(..10).and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        else {
            continue;
        };
        if matches!(prefix, "eq" | "ge" | "gt" | "sa" | "ap") {
            from = Some(from.map_or(day, |f| f.max(day)));
        }
        if matches!(prefix, "eq" | "le" | "lt" | "eb" | "ap") {
            to = Some(to.map_or(day, |t| t.min(day)));
        }
    }
    let from = from.unwrap_or_else(|| to.map_or(today, |t| t - chrono::Duration::days(13)));
    let to = to.unwrap_or(from + chrono::Duration::days(13));
    let days = (to - from).num_days() + 1;
    if !(1..=31).contains(&days) {
        return Err(ApiError::new(
            TOO_COSTLY,
            "a Slot search looks through 1 to 31 days (start=ge…&start=le…)",
        ));
    }
    Ok((from, u32::try_from(days).unwrap_or(1)))
}

/// The audit trail an AuditEvent search looks through: one patient's (`patient=`,
/// `entity=Patient/…`) or one member of staff's (`agent=`), newest first, the latest
/// thousand. Reading the trail is the auditors' permission.
pub(super) async fn audit_candidates(
    state: &AppState,
    ctx: &Ctx,
    q: &search::Query,
) -> Result<Vec<Value>, ApiError> {
    let patient = q.referenced("patient", "Patient").or_else(|| q.referenced("entity", "Patient"));
    let agent = q.referenced("agent", "Practitioner");
    let one = |ids: Option<Vec<String>>| -> Result<Option<Uuid>, ApiError> {
        match ids.as_deref() {
            None => Ok(None),
            Some([id]) => Ok(Some(Uuid::parse_str(id).unwrap_or_default())),
            Some(_) => Err(ApiError::new(TOO_COSTLY, "an AuditEvent search names one patient or one agent")),
        }
    };
    let (patient_id, actor_id) = (one(patient)?, one(agent)?);
    if patient_id.is_none() && actor_id.is_none() {
        return Err(ApiError::new(
            TOO_COSTLY,
            "an AuditEvent search names the patient (patient=Patient/…) or the agent (agent=Practitioner/…)",
        ));
    }
    let filter =
        salus_core::audit::EventFilter { actor_id, patient_id, action_prefix: None, from: None, to: None };
    let events = state.app.audit().search_audit(ctx, None, filter, None, 1000).await?;
    Ok(events.iter().map(resources::audit_event).collect())
}

/// The most patients the index hands a FHIR search (a page of a common name's holders is
/// read from these, in id order).
const PATIENT_CANDIDATES: usize = 1000;

/// The most patients one clinical search names.
const MAX_PATIENTS: usize = 50;

/// The patients a clinical search looks through.
pub(super) async fn compartment(
    state: &AppState,
    ctx: &Ctx,
    ty: &str,
    q: &search::Query,
) -> Result<Vec<PatientId>, ApiError> {
    if let Some(own) = own_patient(ctx) {
        return Ok(own.into_iter().collect());
    }
    let named = q.referenced("patient", "Patient").or_else(|| q.referenced("subject", "Patient"));
    if let Some(ids) = named {
        if ids.len() > MAX_PATIENTS {
            return Err(ApiError::new(
                TOO_COSTLY,
                format!("a search names at most {MAX_PATIENTS} patients at once; ask in several searches"),
            ));
        }
        return Ok(ids.iter().filter_map(|i| Uuid::parse_str(i).ok()).map(PatientId::from_uuid).collect());
    }
    if let Some(encounters) = q
        .referenced("encounter", "Encounter")
        .or_else(|| (ty == "Encounter").then(|| q.values_of("_id").map(<[String]>::to_vec)).flatten())
    {
        let mut out = Vec::new();
        for e in encounters.iter().filter_map(|i| Uuid::parse_str(i).ok()) {
            if let Ok(p) = state.app.interop().owner(Part::Encounters, e).await {
                out.push(p);
            }
        }
        return Ok(out);
    }
    Err(ApiError::new(
        TOO_COSTLY,
        format!("a search of {ty} names the patient (patient=Patient/…, subject=…) or the encounter"),
    ))
}
