//! Interoperability: what the standard doors (FHIR R4 today, HL7 v2 next) read of the
//! hospital. They speak other systems' language but hold no data of their own: a use case
//! here gathers the domain's records — under the same permissions, relationships,
//! break-the-glass rule and read audit as the API and the pages — and the door maps them.

pub mod export;
pub mod import;

pub use import::{ImportReport, Importer};

use salus_core::PatientId;
use salus_core::billing::{Charge, Invoice, InvoiceLine};
use salus_core::clinical::{
    Allergy, Attachment, Diagnosis, Encounter, Immunization, Prescription, VitalSigns,
};
use salus_core::inpatient::mar::{Administration, MedicationOrder};
use salus_core::insurance::{Claim, ClaimLine, Payer, Plan, Policy};
use salus_core::laboratory::{LabOrder, LabResult, Specimen};
use salus_core::pharmacy::{Dispense, DispenseLine};
use salus_db::clinical as clinical_q;
use salus_db::interop::{self as q, Owned};
use salus_db::laboratory as lab_q;
use uuid::Uuid;

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::scheduling::Appointment;
use crate::{AppError, Ctx};

/// The parts of a patient's record a door may ask for at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Encounters,
    Diagnoses,
    Allergies,
    Immunizations,
    Vitals,
    Prescriptions,
    LabOrders,
    LabResults,
    Specimens,
    Administrations,
    Dispensed,
    Appointments,
    Documents,
    Policies,
    Charges,
    Invoices,
    Claims,
}

impl Part {
    pub const ALL: [Part; 17] = [
        Part::Encounters,
        Part::Diagnoses,
        Part::Allergies,
        Part::Immunizations,
        Part::Vitals,
        Part::Prescriptions,
        Part::LabOrders,
        Part::LabResults,
        Part::Specimens,
        Part::Administrations,
        Part::Dispensed,
        Part::Appointments,
        Part::Documents,
        Part::Policies,
        Part::Charges,
        Part::Invoices,
        Part::Claims,
    ];

    /// The permission reading this part takes: the chart's, or the accounts'.
    pub fn permission(self) -> Permission {
        match self {
            Part::Policies | Part::Charges | Part::Invoices | Part::Claims => Permission::BillingRead,
            _ => Permission::ClinicalRead,
        }
    }

    /// The parts the caller may read at all (a patient's own account: the chart's).
    pub fn readable(ctx: &Ctx) -> Vec<Part> {
        let own = matches!(&ctx.actor, crate::identity::Actor::User(u) if u.roles.contains(&salus_core::Role::Patient));
        Part::ALL
            .into_iter()
            .filter(|p| {
                ctx.actor.require(p.permission()).is_ok()
                    || (own && p.permission() == Permission::ClinicalRead)
            })
            .collect()
    }

    fn owned(self) -> Owned {
        match self {
            Part::Encounters => Owned::Encounter,
            Part::Diagnoses => Owned::Diagnosis,
            Part::Allergies => Owned::Allergy,
            Part::Immunizations => Owned::Immunization,
            Part::Vitals => Owned::Vitals,
            Part::Prescriptions => Owned::Prescription,
            Part::LabOrders => Owned::LabOrder,
            Part::LabResults => Owned::LabResult,
            Part::Specimens => Owned::Specimen,
            Part::Administrations => Owned::Administration,
            Part::Dispensed => Owned::DispenseLine,
            Part::Appointments => Owned::Appointment,
            Part::Documents => Owned::Attachment,
            Part::Policies => Owned::Policy,
            Part::Charges => Owned::Charge,
            Part::Invoices => Owned::Invoice,
            Part::Claims => Owned::Claim,
        }
    }

    /// The audit event's object type for a read of this part.
    fn audited_as(self) -> (&'static str, &'static str) {
        match self {
            Part::Encounters => ("clinical.read", "encounters"),
            Part::Diagnoses => ("clinical.read", "diagnoses"),
            Part::Allergies => ("clinical.read", "allergies"),
            Part::Immunizations => ("clinical.read", "immunizations"),
            Part::Vitals => ("clinical.read", "vitals"),
            Part::Prescriptions => ("clinical.read", "prescriptions"),
            Part::LabOrders => ("lab.read", "lab_orders"),
            Part::LabResults => ("lab.read", "lab_results"),
            Part::Specimens => ("lab.read", "specimens"),
            Part::Administrations => ("inpatient.read", "administrations"),
            Part::Dispensed => ("pharmacy.read", "dispensed"),
            Part::Appointments => ("appointments.read", "appointments"),
            Part::Documents => ("clinical.read", "attachments"),
            Part::Policies => ("billing.read", "policies"),
            Part::Charges => ("billing.read", "charges"),
            Part::Invoices => ("billing.read", "invoices"),
            Part::Claims => ("billing.read", "claims"),
        }
    }
}

/// The most rows of one part a single read gathers: a chart's worth, many years of it.
const PART_CAP: u64 = 2000;

/// What was asked of one patient's record; parts not asked for stay empty.
#[derive(Debug, Clone, Default)]
pub struct PatientRecord {
    pub encounters: Vec<Encounter>,
    pub diagnoses: Vec<Diagnosis>,
    pub allergies: Vec<Allergy>,
    pub immunizations: Vec<Immunization>,
    pub vitals: Vec<VitalSigns>,
    pub prescriptions: Vec<Prescription>,
    /// Laboratory orders, whatever their state (cancelled ones too).
    pub lab_orders: Vec<LabOrder>,
    /// Released results only (what a clinician's chart and the patient's portal show).
    pub lab_results: Vec<LabResult>,
    pub specimens: Vec<Specimen>,
    /// Every dose recorded on the ward, amended and amending ones too.
    pub administrations: Vec<Administration>,
    /// The ward's medication orders those doses were given against.
    pub medication_orders: Vec<MedicationOrder>,
    /// What the pharmacy gave out, each line with its dispensing.
    pub dispensed: Vec<(DispenseLine, Dispense)>,
    pub appointments: Vec<Appointment>,
    pub documents: Vec<Attachment>,
    /// Insurance policies, each with its plan and payer.
    pub policies: Vec<(Policy, Plan, Payer)>,
    pub charges: Vec<Charge>,
    pub invoices: Vec<(Invoice, Vec<InvoiceLine>)>,
    /// Claims (every version of each claim number), with their lines.
    pub claims: Vec<(Claim, Vec<ClaimLine>)>,
    /// The payers the claims were sent to.
    pub payers: Vec<Payer>,
    /// The currency the hospital's amounts are kept in.
    pub currency: salus_core::organisation::Currency,
}

impl crate::Interop<'_> {
    /// The patient a row of `part` with this id belongs to. No such row is "not found"
    /// for everyone (its id says nothing); whether the caller may read it is decided by
    /// [`Self::patient_record`].
    pub async fn owner(&self, part: Part, id: Uuid) -> Result<PatientId, AppError> {
        q::patient_of(self.db.reader(), part.owned(), id)
            .await?
            .map(PatientId::from_uuid)
            .ok_or(AppError::NotFound("record"))
    }

    /// The parts of `patient`'s record asked for, checked once per kind — the chart's
    /// parts by clinical read or the patient's own account (a restricted record needs the
    /// glass broken), the accounts' by billing read — and audited as one read event per
    /// part, committed together before anything is returned.
    pub async fn patient_record(
        &self,
        ctx: &Ctx,
        patient: PatientId,
        parts: &[Part],
    ) -> Result<PatientRecord, AppError> {
        if parts.iter().any(|p| p.permission() == Permission::ClinicalRead) {
            self.clinical().clinical_patient(ctx, patient, Permission::ClinicalRead).await?;
        }
        if parts.iter().any(|p| p.permission() == Permission::BillingRead) {
            self.authorize(ctx, Permission::BillingRead).await?;
            self.patients().load_for(ctx, patient, crate::patients::PatientAction::Bill).await?;
        }
        let conn = self.db.reader();
        let id = patient.as_uuid();
        let mut record = PatientRecord { currency: self.currency, ..Default::default() };
        for part in parts {
            match part {
                Part::Encounters => {
                    record.encounters =
                        crate::records(clinical_q::encounters_of(conn, id, None, PART_CAP).await?)
                }
                Part::Diagnoses => {
                    record.diagnoses = crate::records(clinical_q::diagnoses_of(conn, id).await?)
                }
                Part::Allergies => {
                    record.allergies = crate::records(clinical_q::allergies_of(conn, id).await?)
                }
                Part::Immunizations => {
                    record.immunizations = crate::records(clinical_q::immunizations_of(conn, id).await?)
                }
                Part::Vitals => {
                    record.vitals = crate::records(clinical_q::vitals_of(conn, id, PART_CAP).await?)
                }
                Part::Prescriptions => {
                    record.prescriptions =
                        crate::records(clinical_q::prescriptions_of(conn, id, PART_CAP).await?)
                }
                Part::LabOrders => {
                    record.lab_orders = crate::records(lab_q::orders_of(conn, id, PART_CAP).await?)
                }
                Part::LabResults => {
                    record.lab_results = crate::records(lab_q::results_of(conn, id, true, PART_CAP).await?)
                }
                Part::Specimens => {
                    record.specimens = crate::records(q::specimens_of(conn, id, PART_CAP).await?)
                }
                Part::Administrations => {
                    let (doses, orders) = q::administrations_of(conn, id, PART_CAP).await?;
                    record.administrations = crate::records(doses);
                    record.medication_orders = crate::records(orders);
                }
                Part::Dispensed => {
                    record.dispensed = q::dispensed_to(conn, id, PART_CAP)
                        .await?
                        .into_iter()
                        .map(|(l, d)| (l.into(), d.into()))
                        .collect()
                }
                Part::Appointments => {
                    record.appointments = q::appointments_of(conn, id, PART_CAP)
                        .await?
                        .into_iter()
                        .map(Appointment::try_from)
                        .collect::<Result<_, _>>()?
                }
                Part::Documents => {
                    record.documents = crate::records(q::attachments_of(conn, id, PART_CAP).await?)
                }
                Part::Policies => {
                    record.policies = q::policies_of(conn, id, PART_CAP)
                        .await?
                        .into_iter()
                        .map(|(p, plan, payer)| (p.into(), plan.into(), payer.into()))
                        .collect()
                }
                Part::Charges => record.charges = crate::records(q::charges_of(conn, id, PART_CAP).await?),
                Part::Invoices => {
                    record.invoices = q::invoices_of(conn, id, PART_CAP)
                        .await?
                        .into_iter()
                        .map(|(i, lines)| (i.into(), crate::records(lines)))
                        .collect()
                }
                Part::Claims => {
                    let claims = q::claims_of(conn, id, PART_CAP).await?;
                    let payers: Vec<Uuid> = claims.iter().map(|(c, _)| c.payer_id).collect();
                    record.payers = crate::records(q::payers_by_ids(conn, &payers).await?);
                    record.claims =
                        claims.into_iter().map(|(c, lines)| (c.into(), crate::records(lines))).collect();
                }
            }
        }
        let events = parts
            .iter()
            .map(|p| {
                let (action, object) = p.audited_as();
                audit::row(ctx, Event::new(action, object, Some(patient.to_string())).patient(id))
            })
            .collect();
        self.reads.record(events).await?;
        Ok(record)
    }
}
