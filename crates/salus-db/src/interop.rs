//! What the standard doors (FHIR) need beyond each context's own queries: whose record a
//! row belongs to, so a resource read by its id is checked against that patient, and a
//! patient's rows of the kinds no context lists on its own.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entity::{
    allergy, appointment, attachment, charge, claim, claim_line, diagnosis, dispense, dispense_line,
    encounter, immunization, insurance_plan, insurance_policy, invoice, invoice_line, lab_order, lab_result,
    lab_specimen, medication_administration, medication_order, patient, payer, prescription, vital,
};

/// The patient-owned kinds of row: each with its entity and the column naming its patient.
macro_rules! owned {
    ($($kind:ident => $entity:ident),+ $(,)?) => {
        /// A kind of patient-owned row a standard door reads by id.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Owned {
            /// The patient's own row (its id is the patient's).
            Patient,
            $($kind),+
        }

        /// The patient `id` (a row of `kind`) belongs to, if there is such a row.
        pub async fn patient_of<C: ConnectionTrait>(
            conn: &C,
            kind: Owned,
            id: Uuid,
        ) -> Result<Option<Uuid>, DbErr> {
            match kind {
                Owned::Patient => {
                    let p = existing::<patient::Entity, _>(conn, patient::Column::Id, &[id]).await?;
                    Ok(p.into_iter().next())
                }
                $(Owned::$kind => Ok($entity::Entity::find()
                    .select_only()
                    .column($entity::Column::PatientId)
                    .filter($entity::Column::Id.eq(id))
                    .into_tuple::<Option<Uuid>>()
                    .one(conn)
                    .await?
                    .flatten()),)+
            }
        }

        /// Which of `ids` are rows of `kind` already.
        pub async fn existing_of<C: ConnectionTrait>(
            conn: &C,
            kind: Owned,
            ids: &[Uuid],
        ) -> Result<Vec<Uuid>, DbErr> {
            match kind {
                Owned::Patient => existing::<patient::Entity, _>(conn, patient::Column::Id, ids).await,
                $(Owned::$kind => existing::<$entity::Entity, _>(conn, $entity::Column::Id, ids).await,)+
            }
        }
    };
}

owned! {
    Encounter => encounter,
    Diagnosis => diagnosis,
    Allergy => allergy,
    Immunization => immunization,
    Vitals => vital,
    Prescription => prescription,
    LabOrder => lab_order,
    LabResult => lab_result,
    Specimen => lab_specimen,
    Administration => medication_administration,
    DispenseLine => dispense_line,
    Appointment => appointment,
    Attachment => attachment,
    Policy => insurance_policy,
    Claim => claim,
    Invoice => invoice,
    Charge => charge,
}

/// Which of `ids` are patients already.
pub async fn existing_patients<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    existing::<patient::Entity, _>(conn, patient::Column::Id, ids).await
}

/// A patient's rows of one entity, oldest first by `order`, at most `cap`.
async fn rows_of<E, C>(
    conn: &C,
    patient_col: E::Column,
    order: E::Column,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    E::find().filter(patient_col.eq(patient)).order_by_asc(order).limit(cap).all(conn).await
}

/// A patient's specimens, by collection time.
pub async fn specimens_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<lab_specimen::Model>, DbErr> {
    use lab_specimen::{Column, Entity};
    rows_of::<Entity, _>(conn, Column::PatientId, Column::CollectedAt, patient, cap).await
}

/// Every dose recorded for a patient on the ward (amended ones too), by recording time,
/// and the medication orders they were given against.
pub async fn administrations_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<(Vec<medication_administration::Model>, Vec<medication_order::Model>), DbErr> {
    use medication_administration::{Column, Entity};
    let doses = rows_of::<Entity, _>(conn, Column::PatientId, Column::RecordedAt, patient, cap).await?;
    let mut ids: Vec<Uuid> = doses.iter().map(|d| d.order_id).collect();
    ids.sort();
    ids.dedup();
    let orders =
        medication_order::Entity::find().filter(medication_order::Column::Id.is_in(ids)).all(conn).await?;
    Ok((doses, orders))
}

/// What the pharmacy gave a patient: each line with its dispensing.
pub async fn dispensed_to<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<(dispense_line::Model, dispense::Model)>, DbErr> {
    let lines = dispense_line::Entity::find()
        .filter(dispense_line::Column::PatientId.eq(patient))
        .order_by_asc(dispense_line::Column::Id)
        .limit(cap)
        .all(conn)
        .await?;
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = lines.iter().map(|l| l.dispense_id).collect();
    let dispenses = dispense::Entity::find().filter(dispense::Column::Id.is_in(ids)).all(conn).await?;
    let mut out: Vec<_> = lines
        .into_iter()
        .filter_map(|l| Some((l.clone(), dispenses.iter().find(|d| d.id == l.dispense_id)?.clone())))
        .collect();
    out.sort_by_key(|(l, d)| (d.dispensed_at, l.id));
    Ok(out)
}

/// A patient's appointments, by start.
pub async fn appointments_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<appointment::Model>, DbErr> {
    use appointment::{Column, Entity};
    rows_of::<Entity, _>(conn, Column::PatientId, Column::StartsAt, patient, cap).await
}

/// The files kept with a patient's record, by upload time.
pub async fn attachments_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<attachment::Model>, DbErr> {
    use attachment::{Column, Entity};
    rows_of::<Entity, _>(conn, Column::PatientId, Column::UploadedAt, patient, cap).await
}

/// A patient's insurance policies, by start of cover, each with its plan and payer.
pub async fn policies_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<(insurance_policy::Model, insurance_plan::Model, payer::Model)>, DbErr> {
    use insurance_policy::{Column, Entity};
    let policies = rows_of::<Entity, _>(conn, Column::PatientId, Column::ValidFrom, patient, cap).await?;
    if policies.is_empty() {
        return Ok(Vec::new());
    }
    let plan_ids: Vec<Uuid> = policies.iter().map(|p| p.plan_id).collect();
    let plans =
        insurance_plan::Entity::find().filter(insurance_plan::Column::Id.is_in(plan_ids)).all(conn).await?;
    let payers = payers_by_ids(conn, &plans.iter().map(|p| p.payer_id).collect::<Vec<_>>()).await?;
    Ok(policies
        .into_iter()
        .filter_map(|p| {
            let plan = plans.iter().find(|x| x.id == p.plan_id)?.clone();
            let payer = payers.iter().find(|x| x.id == plan.payer_id)?.clone();
            Some((p, plan, payer))
        })
        .collect())
}

/// Payers by id.
pub async fn payers_by_ids<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<payer::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    payer::Entity::find().filter(payer::Column::Id.is_in(ids)).all(conn).await
}

/// Each of `rows` with its lines (`fk` the column naming the row), the lines in `order`.
async fn with_lines<L, R, C>(
    conn: &C,
    rows: Vec<R>,
    id: impl Fn(&R) -> Uuid,
    (fk, order): (L::Column, L::Column),
    parent: impl Fn(&L::Model) -> Uuid,
) -> Result<Vec<(R, Vec<L::Model>)>, DbErr>
where
    L: EntityTrait,
    C: ConnectionTrait,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(&id).collect();
    let mut lines = L::find().filter(fk.is_in(ids)).order_by_asc(order).all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let (mine, rest) = lines.drain(..).partition(|l| parent(l) == id(&r));
            lines = rest;
            (r, mine)
        })
        .collect())
}

/// A patient's claims (every version), with their lines.
pub async fn claims_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<(claim::Model, Vec<claim_line::Model>)>, DbErr> {
    use claim::{Column, Entity};
    let claims = rows_of::<Entity, _>(conn, Column::PatientId, Column::CreatedAt, patient, cap).await?;
    let columns = (claim_line::Column::ClaimId, claim_line::Column::Id);
    with_lines::<claim_line::Entity, _, _>(conn, claims, |c| c.id, columns, |l| l.claim_id).await
}

/// A patient's invoices, with their lines in order.
pub async fn invoices_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<(invoice::Model, Vec<invoice_line::Model>)>, DbErr> {
    use invoice::{Column, Entity};
    let invoices = rows_of::<Entity, _>(conn, Column::PatientId, Column::PostedAt, patient, cap).await?;
    let columns = (invoice_line::Column::InvoiceId, invoice_line::Column::Position);
    with_lines::<invoice_line::Entity, _, _>(conn, invoices, |i| i.id, columns, |l| l.invoice_id).await
}

/// A patient's charges, billed or not, by time.
pub async fn charges_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    cap: u64,
) -> Result<Vec<charge::Model>, DbErr> {
    use charge::{Column, Entity};
    rows_of::<Entity, _>(conn, Column::PatientId, Column::CreatedAt, patient, cap).await
}

/// Which of `ids` are encounters already.
pub async fn existing_encounters<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    existing::<encounter::Entity, _>(conn, encounter::Column::Id, ids).await
}

async fn existing<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    id: E::Column,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        out.extend(
            E::find()
                .select_only()
                .column(id)
                .filter(id.is_in(chunk.iter().copied()))
                .into_tuple::<Uuid>()
                .all(conn)
                .await?,
        );
    }
    Ok(out)
}

/// Rows taken in from another system.
#[derive(Debug, Default)]
pub struct Imported {
    pub encounters: Vec<encounter::Model>,
    pub vitals: Vec<vital::Model>,
    pub immunizations: Vec<immunization::Model>,
    pub allergies: Vec<allergy::Model>,
    pub diagnoses: Vec<diagnosis::Model>,
}

/// Inserts the rows not there yet (by id); for each kind, how many were made and how
/// many were there already.
pub async fn insert_imported<C: ConnectionTrait>(
    conn: &C,
    rows: Imported,
) -> Result<Vec<(&'static str, u64, u64)>, DbErr> {
    async fn put<E, A, C>(conn: &C, id: E::Column, rows: Vec<A>) -> Result<(u64, u64), DbErr>
    where
        E: EntityTrait,
        A: sea_orm::ActiveModelTrait<Entity = E> + Send,
        C: ConnectionTrait,
    {
        let total = rows.len() as u64;
        let mut made = 0;
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(1000).collect();
            let res = E::insert_many(chunk)
                .on_conflict(sea_orm::sea_query::OnConflict::column(id).do_nothing().to_owned())
                .exec_without_returning(conn)
                .await;
            made += match res {
                Ok(n) => n,
                Err(DbErr::RecordNotInserted) => 0,
                Err(e) => return Err(e),
            };
        }
        Ok((made, total - made))
    }
    use sea_orm::IntoActiveModel;
    let mut out = Vec::new();
    let (m, a) = put::<encounter::Entity, _, _>(
        conn,
        encounter::Column::Id,
        rows.encounters.into_iter().map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    out.push(("encounters", m, a));
    let (m, a) = put::<vital::Entity, _, _>(
        conn,
        vital::Column::Id,
        rows.vitals.into_iter().map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    out.push(("vital sign sets", m, a));
    let (m, a) = put::<immunization::Entity, _, _>(
        conn,
        immunization::Column::Id,
        rows.immunizations.into_iter().map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    out.push(("immunizations", m, a));
    let (m, a) = put::<allergy::Entity, _, _>(
        conn,
        allergy::Column::Id,
        rows.allergies.into_iter().map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    out.push(("allergies", m, a));
    let (m, a) = put::<diagnosis::Entity, _, _>(
        conn,
        diagnosis::Column::Id,
        rows.diagnoses.into_iter().map(IntoActiveModel::into_active_model).collect(),
    )
    .await?;
    out.push(("conditions", m, a));
    Ok(out)
}
