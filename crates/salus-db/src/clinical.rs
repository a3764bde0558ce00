//! Queries of the clinical record. Saving a note's draft and signing it are conditional
//! UPDATEs (`status = 'draft'`, the version seen, the author): a signed note cannot be
//! written by any path here. Marking a record entered in error sets its reason and
//! nothing else.

use crate::merge::PatientLink;
use chrono::{DateTime, Utc};
use salus_core::clinical::{ClinicalStatus, NoteStatus, PrescriptionStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{
    allergy, attachment, diagnosis, encounter, immunization, medicine, note, note_template, prescription,
    referral, vital,
};

/// Everything in the clinical record follows its patient through a merge: a survivor
/// whose chart lost the duplicate's allergies would be prescribed what harms them.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows_versioned("encounters"),
    PatientLink::follows("vitals").part_of("encounter_id", "encounters"),
    PatientLink::follows_versioned("notes").part_of("encounter_id", "encounters"),
    PatientLink::follows_versioned("diagnoses").part_of("encounter_id", "encounters"),
    PatientLink::follows_versioned("allergies"),
    PatientLink::follows("immunizations"),
    PatientLink::follows_versioned("prescriptions").part_of("encounter_id", "encounters"),
    PatientLink::follows_versioned("referrals").part_of("encounter_id", "encounters"),
    PatientLink::follows("attachments").part_of("encounter_id", "encounters"),
];

pub async fn insert_encounter<C: ConnectionTrait>(conn: &C, row: encounter::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// Ends an encounter still in progress (a stay's, at discharge).
pub async fn end_encounter<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, DbErr> {
    use salus_core::clinical::EncounterStatus;
    use sea_orm::sea_query::{Expr, ExprTrait};
    Ok(encounter::Entity::update_many()
        .col_expr(encounter::Column::Status, Expr::value(EncounterStatus::Finished.as_str()))
        .col_expr(encounter::Column::EndedAt, Expr::value(at))
        .col_expr(encounter::Column::UpdatedAt, Expr::value(at))
        .col_expr(encounter::Column::Version, Expr::col(encounter::Column::Version).add(1))
        .filter(encounter::Column::Id.eq(id))
        .filter(encounter::Column::Status.eq(EncounterStatus::InProgress.as_str()))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

pub async fn find_encounter<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<encounter::Model>, DbErr> {
    encounter::Entity::find_by_id(id).one(conn).await
}

pub async fn encounter_of_appointment<C: ConnectionTrait>(
    conn: &C,
    appointment: Uuid,
) -> Result<Option<encounter::Model>, DbErr> {
    encounter::Entity::find().filter(encounter::Column::AppointmentId.eq(appointment)).one(conn).await
}

versioned_update!(
    /// Saves `row` over version `row.version - 1`; false if someone saved first.
    update_encounter,
    encounter
);

/// A patient's encounters, newest first, after the keyset position `(started_at, id)`.
pub async fn encounters_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<encounter::Model>, DbErr> {
    let mut q = encounter::Entity::find()
        .filter(encounter::Column::PatientId.eq(patient))
        .order_by_desc(encounter::Column::StartedAt)
        .order_by_desc(encounter::Column::Id)
        .limit(limit);
    if let Some((at, id)) = after {
        q = q.filter(
            sea_orm::Condition::any().add(encounter::Column::StartedAt.lt(at)).add(
                sea_orm::Condition::all()
                    .add(encounter::Column::StartedAt.eq(at))
                    .add(encounter::Column::Id.lt(id)),
            ),
        );
    }
    q.all(conn).await
}

pub async fn insert_vitals<C: ConnectionTrait>(conn: &C, row: vital::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// A patient's latest vital signs, newest first.
pub async fn vitals_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<vital::Model>, DbErr> {
    vital::Entity::find()
        .filter(vital::Column::PatientId.eq(patient))
        .order_by_desc(vital::Column::RecordedAt)
        .limit(limit)
        .all(conn)
        .await
}

pub async fn vitals_of_encounter<C: ConnectionTrait>(
    conn: &C,
    encounter: Uuid,
) -> Result<Vec<vital::Model>, DbErr> {
    vital::Entity::find()
        .filter(vital::Column::EncounterId.eq(encounter))
        .order_by_asc(vital::Column::RecordedAt)
        .all(conn)
        .await
}

pub async fn insert_note<C: ConnectionTrait>(conn: &C, row: note::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_note<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<note::Model>, DbErr> {
    note::Entity::find_by_id(id).one(conn).await
}

/// Saves a draft's text: only a draft, only its author, only from the version seen.
pub async fn save_draft<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    author: Uuid,
    version: i32,
    soap: [&str; 4],
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = note::Entity::update_many()
        .col_expr(note::Column::Subjective, Expr::value(soap[0]))
        .col_expr(note::Column::Objective, Expr::value(soap[1]))
        .col_expr(note::Column::Assessment, Expr::value(soap[2]))
        .col_expr(note::Column::Plan, Expr::value(soap[3]))
        .col_expr(note::Column::UpdatedAt, Expr::value(now))
        .col_expr(note::Column::Version, Expr::value(version + 1))
        .filter(note::Column::Id.eq(id))
        .filter(note::Column::AuthorId.eq(author))
        .filter(note::Column::Status.eq(NoteStatus::Draft))
        .filter(note::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Signs a draft: only its author, only from the version seen.
pub async fn sign_note<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    author: Uuid,
    version: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = note::Entity::update_many()
        .col_expr(note::Column::Status, Expr::value(NoteStatus::Signed))
        .col_expr(note::Column::SignedAt, Expr::value(now))
        .col_expr(note::Column::UpdatedAt, Expr::value(now))
        .col_expr(note::Column::Version, Expr::value(version + 1))
        .filter(note::Column::Id.eq(id))
        .filter(note::Column::AuthorId.eq(author))
        .filter(note::Column::Status.eq(NoteStatus::Draft))
        .filter(note::Column::Version.eq(version))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Marks a note entered in error (its text stays as it was).
pub async fn note_in_error<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = note::Entity::update_many()
        .col_expr(note::Column::Status, Expr::value(NoteStatus::EnteredInError))
        .col_expr(note::Column::ErrorReason, Expr::value(reason))
        .col_expr(note::Column::UpdatedAt, Expr::value(now))
        .filter(note::Column::Id.eq(id))
        .filter(note::Column::Status.ne(NoteStatus::EnteredInError))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn notes_of_encounter<C: ConnectionTrait>(
    conn: &C,
    encounter: Uuid,
) -> Result<Vec<note::Model>, DbErr> {
    note::Entity::find()
        .filter(note::Column::EncounterId.eq(encounter))
        .order_by_asc(note::Column::CreatedAt)
        .all(conn)
        .await
}

/// Notes that amend `id`.
pub async fn amendments_of<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Vec<note::Model>, DbErr> {
    note::Entity::find()
        .filter(note::Column::Amends.eq(id))
        .order_by_asc(note::Column::CreatedAt)
        .all(conn)
        .await
}

pub async fn note_templates<C: ConnectionTrait>(conn: &C) -> Result<Vec<note_template::Model>, DbErr> {
    note_template::Entity::find().order_by_asc(note_template::Column::Name).all(conn).await
}

pub async fn find_note_template<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<note_template::Model>, DbErr> {
    note_template::Entity::find_by_id(id).one(conn).await
}

/// Inserts or replaces a note template.
pub async fn put_note_template<C: ConnectionTrait>(conn: &C, row: note_template::Model) -> Result<(), DbErr> {
    let id = row.id;
    if note_template::Entity::find_by_id(id).one(conn).await?.is_some() {
        row.into_active_model().reset_all().update(conn).await.map(|_| ())
    } else {
        row.into_active_model().insert(conn).await.map(|_| ())
    }
}

pub async fn insert_diagnosis<C: ConnectionTrait>(conn: &C, row: diagnosis::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_diagnosis<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<diagnosis::Model>, DbErr> {
    diagnosis::Entity::find_by_id(id).one(conn).await
}

versioned_update!(update_diagnosis, diagnosis);

pub async fn diagnoses_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<diagnosis::Model>, DbErr> {
    diagnosis::Entity::find()
        .filter(diagnosis::Column::PatientId.eq(patient))
        .order_by_desc(diagnosis::Column::RecordedAt)
        .all(conn)
        .await
}

/// The problem list: active diagnoses not entered in error, newest first (a chart with
/// ten thousand visits reads its few open problems, not every diagnosis ever made).
pub async fn active_diagnoses_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<diagnosis::Model>, DbErr> {
    diagnosis::Entity::find()
        .filter(diagnosis::Column::PatientId.eq(patient))
        .filter(diagnosis::Column::ClinicalStatus.eq(ClinicalStatus::Active))
        .filter(diagnosis::Column::ErrorReason.is_null())
        .order_by_desc(diagnosis::Column::RecordedAt)
        .all(conn)
        .await
}

pub async fn insert_allergy<C: ConnectionTrait>(conn: &C, row: allergy::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_allergy<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<allergy::Model>, DbErr> {
    allergy::Entity::find_by_id(id).one(conn).await
}

versioned_update!(update_allergy, allergy);

pub async fn allergies_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Vec<allergy::Model>, DbErr> {
    allergy::Entity::find()
        .filter(allergy::Column::PatientId.eq(patient))
        .order_by_asc(allergy::Column::Substance)
        .all(conn)
        .await
}

pub async fn insert_immunization<C: ConnectionTrait>(
    conn: &C,
    row: immunization::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn immunizations_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<immunization::Model>, DbErr> {
    immunization::Entity::find()
        .filter(immunization::Column::PatientId.eq(patient))
        .order_by_desc(immunization::Column::GivenOn)
        .all(conn)
        .await
}

/// Marks a vitals, immunization (or other simple) record entered in error.
pub async fn vitals_in_error<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    reason: &str,
) -> Result<Option<Uuid>, DbErr> {
    let Some(row) = vital::Entity::find_by_id(id).one(conn).await? else { return Ok(None) };
    if row.error_reason.is_some() {
        return Ok(None);
    }
    vital::Entity::update_many()
        .col_expr(vital::Column::ErrorReason, Expr::value(reason))
        .filter(vital::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(Some(row.patient_id))
}

pub async fn immunization_in_error<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    reason: &str,
) -> Result<Option<Uuid>, DbErr> {
    let Some(row) = immunization::Entity::find_by_id(id).one(conn).await? else { return Ok(None) };
    if row.error_reason.is_some() {
        return Ok(None);
    }
    immunization::Entity::update_many()
        .col_expr(immunization::Column::ErrorReason, Expr::value(reason))
        .filter(immunization::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(Some(row.patient_id))
}

pub async fn medicines<C: ConnectionTrait>(
    conn: &C,
    text: Option<&str>,
    include_inactive: bool,
    limit: u64,
) -> Result<Vec<medicine::Model>, DbErr> {
    let mut q = medicine::Entity::find()
        .order_by_asc(medicine::Column::GenericName)
        .order_by_asc(medicine::Column::Strength)
        .limit(limit);
    if let Some(t) = text.filter(|t| !t.trim().is_empty()) {
        let pattern = format!("%{}%", t.trim().to_lowercase().replace(['%', '_'], ""));
        q = q.filter(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(medicine::Column::GenericName)))
                .like(pattern),
        );
    }
    if !include_inactive {
        q = q.filter(medicine::Column::Active.eq(true));
    }
    q.all(conn).await
}

pub async fn find_medicine<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<medicine::Model>, DbErr> {
    medicine::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_medicine<C: ConnectionTrait>(conn: &C, row: medicine::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

versioned_update!(update_medicine, medicine);

pub async fn insert_prescription<C: ConnectionTrait>(
    conn: &C,
    row: prescription::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_prescription<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<prescription::Model>, DbErr> {
    prescription::Entity::find_by_id(id).one(conn).await
}

/// Writes a clinician's edit of a prescription if it is still at the version edited;
/// every column but `dispensed`, which is the pharmacy's count and moves on its own.
pub async fn update_prescription<C: ConnectionTrait>(
    conn: &C,
    row: prescription::Model,
) -> Result<bool, DbErr> {
    let (id, previous) = (row.id, row.version - 1);
    let mut changes = row.into_active_model().reset_all();
    changes.dispensed = sea_orm::ActiveValue::NotSet;
    let res = prescription::Entity::update_many()
        .set(changes)
        .filter(prescription::Column::Id.eq(id))
        .filter(prescription::Column::Version.eq(previous))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn prescriptions_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
    limit: u64,
) -> Result<Vec<prescription::Model>, DbErr> {
    prescription::Entity::find()
        .filter(prescription::Column::PatientId.eq(patient))
        .order_by_desc(prescription::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// The medicines a patient is on: active prescriptions, newest first.
pub async fn active_prescriptions_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<prescription::Model>, DbErr> {
    prescription::Entity::find()
        .filter(prescription::Column::PatientId.eq(patient))
        .filter(prescription::Column::Status.eq(PrescriptionStatus::Active))
        .order_by_desc(prescription::Column::CreatedAt)
        .all(conn)
        .await
}

pub async fn insert_referral<C: ConnectionTrait>(conn: &C, row: referral::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_referral<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<referral::Model>, DbErr> {
    referral::Entity::find_by_id(id).one(conn).await
}

versioned_update!(update_referral, referral);

pub async fn referrals_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<referral::Model>, DbErr> {
    referral::Entity::find()
        .filter(referral::Column::PatientId.eq(patient))
        .order_by_desc(referral::Column::CreatedAt)
        .all(conn)
        .await
}

pub async fn insert_attachment<C: ConnectionTrait>(conn: &C, row: attachment::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_attachment<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<attachment::Model>, DbErr> {
    attachment::Entity::find_by_id(id).one(conn).await
}

pub async fn attachments_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<attachment::Model>, DbErr> {
    attachment::Entity::find()
        .filter(attachment::Column::PatientId.eq(patient))
        .order_by_desc(attachment::Column::UploadedAt)
        .all(conn)
        .await
}
