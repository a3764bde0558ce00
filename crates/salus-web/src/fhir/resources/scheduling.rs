//! Who works where and when: a staff member's role in their department
//! (PractitionerRole), a doctor's weekly sessions (Schedule, one per doctor, its id the
//! doctor's) and the slots they are cut into (Slot, free while places are left).

use chrono::{Duration, NaiveDate};
use salus_app::organisation::{Specialisation, StaffMember};
use salus_app::scheduling::SlotPlaces;
use salus_core::Role;
use salus_core::scheduling::ScheduleTemplate;
use serde_json::{Value, json};

use super::{coding, date, instant, object, reference};

const PRACTITIONER_ROLE: &str = "http://terminology.hl7.org/CodeSystem/practitioner-role";

/// A staff member's roles in their department, with their specialty.
pub fn practitioner_role(m: &StaffMember, specialisation: Option<&Specialisation>) -> Value {
    let u = &m.user;
    let codes: Vec<Value> = u
        .roles
        .iter()
        .map(|r| match r {
            Role::Doctor => json!({"coding": [coding(PRACTITIONER_ROLE, "doctor", Some("Doctor"))], "text": "Doctor"}),
            Role::Nurse => json!({"coding": [coding(PRACTITIONER_ROLE, "nurse", Some("Nurse"))], "text": "Nurse"}),
            Role::Pharmacist => {
                json!({"coding": [coding(PRACTITIONER_ROLE, "pharmacist", Some("Pharmacist"))], "text": "Pharmacist"})
            }
            other => json!({"text": other.as_str()}),
        })
        .collect();
    object(vec![
        ("resourceType", json!("PractitionerRole")),
        ("id", json!(u.id.to_string())),
        (
            "meta",
            json!({"versionId": m.profile.version.max(1).to_string(), "lastUpdated": instant(u.created_at)}),
        ),
        ("active", json!(u.active)),
        ("practitioner", json!({"reference": format!("Practitioner/{}", u.id), "display": u.display_name})),
        ("organization", m.profile.department_id.map(|d| reference("Organization", d)).unwrap_or(Value::Null)),
        ("code", if codes.is_empty() { Value::Null } else { json!(codes) }),
        (
            "specialty",
            specialisation
                .map(|s| json!([{"coding": [{"system": "urn:salus:specialisation", "code": s.code}], "text": s.name}]))
                .unwrap_or(Value::Null),
        ),
    ])
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A doctor's weekly sessions as one schedule, its horizon the 90 days slots are offered.
pub fn schedule(doctor: uuid::Uuid, templates: &[&ScheduleTemplate], today: NaiveDate) -> Option<Value> {
    let newest = templates.iter().map(|t| t.updated_at).max()?;
    let version: i32 = templates.iter().map(|t| t.version).sum();
    let sessions: Vec<String> = templates
        .iter()
        .filter(|t| t.active)
        .map(|t| {
            let day =
                usize::try_from(t.weekday - 1).ok().and_then(|d| WEEKDAYS.get(d)).copied().unwrap_or("?");
            format!("{day} {}–{} ({} min)", t.start_time, t.end_time, t.slot_minutes)
        })
        .collect();
    Some(object(vec![
        ("resourceType", json!("Schedule")),
        ("id", json!(doctor.to_string())),
        ("meta", json!({"versionId": version.max(1).to_string(), "lastUpdated": instant(newest)})),
        ("active", json!(templates.iter().any(|t| t.active))),
        ("actor", json!([reference("Practitioner", doctor)])),
        ("planningHorizon", json!({"start": date(today), "end": date(today + Duration::days(89))})),
        ("comment", if sessions.is_empty() { Value::Null } else { json!(sessions.join("; ")) }),
    ]))
}

/// A slot's id: the doctor's, the date and the time (`…-20261203-0930`).
pub fn slot_id(s: &SlotPlaces) -> String {
    format!("{}-{}-{}", s.doctor_id, s.date.format("%Y%m%d"), s.time.to_string().replace(':', ""))
}

/// A slot of a doctor's session: free while places are left, busy once they are taken,
/// and no longer to be had once it has begun.
pub fn slot(s: &SlotPlaces) -> Value {
    let ends = s.starts_at + Duration::minutes(i64::from(s.minutes));
    let status = if s.starts_at <= chrono::Utc::now() {
        "busy-unavailable"
    } else if s.taken < s.capacity {
        "free"
    } else {
        "busy"
    };
    object(vec![
        ("resourceType", json!("Slot")),
        ("id", json!(slot_id(s))),
        // Its version follows the places taken (a slot keeps no history of its own).
        ("meta", json!({"versionId": (u32::from(s.taken) + 1).to_string()})),
        ("schedule", reference("Schedule", s.doctor_id)),
        ("status", json!(status)),
        ("start", json!(instant(s.starts_at))),
        ("end", json!(instant(ends))),
        ("overbooked", json!(s.taken > s.capacity)),
        ("comment", json!(format!("{} of {} places taken", s.taken, s.capacity))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use salus_core::scheduling::WallTime;
    use salus_core::{DepartmentId, UserId};

    fn slot_at(starts_at: chrono::DateTime<chrono::Utc>, taken: u16) -> SlotPlaces {
        SlotPlaces {
            doctor_id: UserId::from_uuid(uuid::Uuid::nil()),
            date: starts_at.date_naive(),
            time: WallTime::parse("09:30", "time").unwrap(),
            starts_at,
            minutes: 15,
            department_id: DepartmentId::from_uuid(uuid::Uuid::nil()),
            capacity: 2,
            taken,
        }
    }

    #[test]
    fn a_slot_is_free_until_full_and_gone_once_begun() {
        let later = chrono::Utc::now() + Duration::hours(2);
        let earlier = chrono::Utc::now() - Duration::minutes(5);
        assert_eq!(slot(&slot_at(later, 1))["status"], "free");
        assert_eq!(slot(&slot_at(later, 2))["status"], "busy");
        assert_eq!(slot(&slot_at(earlier, 0))["status"], "busy-unavailable");
        assert_eq!(slot(&slot_at(later, 3))["overbooked"], true);
        assert!(slot_id(&slot_at(later, 0)).ends_with("-0930"));
    }
}
