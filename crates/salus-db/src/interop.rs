//! What the standard doors (FHIR) need beyond each context's own queries: whose record a
//! row belongs to, so a resource read by its id is checked against that patient.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::entity::{
    allergy, diagnosis, encounter, immunization, lab_order, lab_result, patient, prescription, vital,
};

/// A kind of patient-owned row a standard door reads by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Owned {
    /// The patient's own row (its id is the patient's).
    Patient,
    Encounter,
    Diagnosis,
    Allergy,
    Immunization,
    Vitals,
    Prescription,
    LabOrder,
    LabResult,
}

/// The patient `id` (a row of `kind`) belongs to, if there is such a row.
pub async fn patient_of<C: ConnectionTrait>(conn: &C, kind: Owned, id: Uuid) -> Result<Option<Uuid>, DbErr> {
    async fn one<E: EntityTrait, C: ConnectionTrait>(
        conn: &C,
        id_col: E::Column,
        patient_col: E::Column,
        id: Uuid,
    ) -> Result<Option<Uuid>, DbErr> {
        E::find().select_only().column(patient_col).filter(id_col.eq(id)).into_tuple::<Uuid>().one(conn).await
    }
    match kind {
        Owned::Patient => {
            let p = existing::<patient::Entity, _>(conn, patient::Column::Id, &[id]).await?;
            Ok(p.into_iter().next())
        }
        Owned::Encounter => {
            one::<encounter::Entity, _>(conn, encounter::Column::Id, encounter::Column::PatientId, id).await
        }
        Owned::Diagnosis => {
            one::<diagnosis::Entity, _>(conn, diagnosis::Column::Id, diagnosis::Column::PatientId, id).await
        }
        Owned::Allergy => {
            one::<allergy::Entity, _>(conn, allergy::Column::Id, allergy::Column::PatientId, id).await
        }
        Owned::Immunization => {
            one::<immunization::Entity, _>(
                conn,
                immunization::Column::Id,
                immunization::Column::PatientId,
                id,
            )
            .await
        }
        Owned::Vitals => one::<vital::Entity, _>(conn, vital::Column::Id, vital::Column::PatientId, id).await,
        Owned::Prescription => {
            one::<prescription::Entity, _>(
                conn,
                prescription::Column::Id,
                prescription::Column::PatientId,
                id,
            )
            .await
        }
        Owned::LabOrder => {
            one::<lab_order::Entity, _>(conn, lab_order::Column::Id, lab_order::Column::PatientId, id).await
        }
        Owned::LabResult => {
            one::<lab_result::Entity, _>(conn, lab_result::Column::Id, lab_result::Column::PatientId, id)
                .await
        }
    }
}

/// Which of `ids` are patients already.
pub async fn existing_patients<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<Uuid>, DbErr> {
    existing::<patient::Entity, _>(conn, patient::Column::Id, ids).await
}

/// Which of `ids` are rows of `kind` already.
pub async fn existing_of<C: ConnectionTrait>(
    conn: &C,
    kind: Owned,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    match kind {
        Owned::Patient => existing::<patient::Entity, _>(conn, patient::Column::Id, ids).await,
        Owned::Encounter => existing::<encounter::Entity, _>(conn, encounter::Column::Id, ids).await,
        Owned::Diagnosis => existing::<diagnosis::Entity, _>(conn, diagnosis::Column::Id, ids).await,
        Owned::Allergy => existing::<allergy::Entity, _>(conn, allergy::Column::Id, ids).await,
        Owned::Immunization => existing::<immunization::Entity, _>(conn, immunization::Column::Id, ids).await,
        Owned::Vitals => existing::<vital::Entity, _>(conn, vital::Column::Id, ids).await,
        Owned::Prescription => existing::<prescription::Entity, _>(conn, prescription::Column::Id, ids).await,
        Owned::LabOrder => existing::<lab_order::Entity, _>(conn, lab_order::Column::Id, ids).await,
        Owned::LabResult => existing::<lab_result::Entity, _>(conn, lab_result::Column::Id, ids).await,
    }
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
