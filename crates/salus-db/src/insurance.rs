//! Insurance's queries — payers, plans, policies, pre-authorisations, claims and the
//! insurer ageing — and the leak check: billable events with neither a charge nor a
//! recorded exemption.

use chrono::{DateTime, Utc};
use salus_core::insurance::{ClaimStatus, PolicyStatus, PreauthStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IntoActiveModel,
    QueryFilter, QueryOrder, QuerySelect, TryInsertResult,
};
use uuid::Uuid;

use crate::dialect::{self, Params};
use crate::entity::{
    billing_exemption, claim, claim_line, insurance_plan, insurance_policy, invoice, payer, preauthorisation,
    preauthorisation_document,
};
use crate::merge::PatientLink;

/// A merged patient's policies, pre-authorisations, claims and exemptions are the
/// survivor's.
pub const PATIENT_LINKS: &[PatientLink] = &[
    PatientLink::follows("insurance_policies"),
    PatientLink::follows("preauthorisations"),
    PatientLink::follows("claims"),
    PatientLink::follows("billing_exemptions"),
];

// ---- the leak check -------------------------------------------------------------------

/// A billable event with neither a charge nor an exemption.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Leak {
    pub kind: String,
    pub source_id: Uuid,
    pub patient_id: Uuid,
    pub at: DateTime<Utc>,
    pub what: String,
}

/// Billable events in `[from, to)` (by when they happened) with neither a charge nor an
/// exemption, oldest first, at most `limit`; `only` narrows it to one event. The billable
/// events: a finished outpatient or emergency visit (its consultation), a lab order line
/// whose specimen was taken, an imaging examination performed, a medicine dispensed to a
/// patient and not wholly returned, a done nursing task tied to a service. (Bed days are
/// checked by the inpatient context, which knows the stays' days.)
pub async fn leaks<C: ConnectionTrait>(
    conn: &C,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    only: Option<(&str, Uuid)>,
    limit: u64,
) -> Result<Vec<Leak>, DbErr> {
    let d = dialect::of(conn);
    let mut p = Params::new(d);
    let mut window = |col: &str| format!("{col} >= {} AND {col} < {}", p.add(from), p.add(to));
    let branches = [
        format!(
            "SELECT 'encounter' AS kind, e.id AS source_id, e.patient_id, e.ended_at AS at, \
             'Consultation' AS what FROM encounters e \
             WHERE e.class IN ('AMB', 'EMER') AND e.status = 'finished' AND {}",
            window("e.ended_at")
        ),
        format!(
            "SELECT 'lab_order', o.id, o.patient_id, o.updated_at, o.test_name FROM lab_orders o \
             WHERE o.status IN ('collected', 'received', 'resulted', 'verified') AND {}",
            window("o.updated_at")
        ),
        format!(
            "SELECT 'imaging_order', o.id, o.patient_id, o.performed_at, o.procedure_name \
             FROM imaging_orders o WHERE o.status IN ('performed', 'reported', 'final') AND {}",
            window("o.performed_at")
        ),
        format!(
            "SELECT 'dispense_line', l.id, l.patient_id, x.dispensed_at, l.item_name \
             FROM dispense_lines l JOIN dispenses x ON x.id = l.dispense_id \
             WHERE l.patient_id IS NOT NULL AND l.returned < l.quantity AND {}",
            window("x.dispensed_at")
        ),
        format!(
            "SELECT 'nursing_task', t.id, t.patient_id, t.done_at, t.description FROM nursing_tasks t \
             WHERE t.status = 'done' AND t.service_code IS NOT NULL AND {}",
            window("t.done_at")
        ),
    ];
    let mut sql = format!(
        "SELECT kind, source_id, patient_id, at, what FROM ({}) ev \
         WHERE NOT EXISTS (SELECT 1 FROM charges c WHERE c.source_type = ev.kind AND c.source_id = ev.source_id) \
         AND NOT EXISTS (SELECT 1 FROM billing_exemptions x \
                         WHERE x.source_type = ev.kind AND x.source_id = ev.source_id)",
        branches.join(" UNION ALL ")
    );
    if let Some((kind, id)) = only {
        sql.push_str(&format!(" AND ev.kind = {} AND ev.source_id = {}", p.add(kind), p.add(id)));
    }
    sql.push_str(&format!(" ORDER BY at, source_id LIMIT {}", limit.clamp(1, 5_000)));
    Leak::find_by_statement(p.statement(sql)).all(conn).await
}

/// Of `ids` (sources of `source_type`), those with a charge or an exemption.
pub async fn accounted_sources<C: ConnectionTrait>(
    conn: &C,
    source_type: &str,
    ids: &[Uuid],
) -> Result<std::collections::HashSet<Uuid>, DbErr> {
    use crate::entity::charge;
    let mut found = std::collections::HashSet::new();
    for chunk in ids.chunks(5_000) {
        let charged: Vec<Uuid> = charge::Entity::find()
            .select_only()
            .column(charge::Column::SourceId)
            .filter(charge::Column::SourceType.eq(source_type))
            .filter(charge::Column::SourceId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        let exempted: Vec<Uuid> = billing_exemption::Entity::find()
            .select_only()
            .column(billing_exemption::Column::SourceId)
            .filter(billing_exemption::Column::SourceType.eq(source_type))
            .filter(billing_exemption::Column::SourceId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        found.extend(charged);
        found.extend(exempted);
    }
    Ok(found)
}

/// Records that a billable event is not to be charged; false if it already was exempted.
pub async fn insert_exemption<C: ConnectionTrait>(
    conn: &C,
    row: billing_exemption::Model,
) -> Result<bool, DbErr> {
    let r = billing_exemption::Entity::insert(row.into_active_model())
        .on_conflict_do_nothing_on([
            billing_exemption::Column::SourceType,
            billing_exemption::Column::SourceId,
        ])
        .exec_without_returning(conn)
        .await?;
    Ok(matches!(r, TryInsertResult::Inserted(1)))
}

/// Exemptions recorded in `[from, to)`, newest first.
pub async fn exemptions_between<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<billing_exemption::Model>, DbErr> {
    billing_exemption::Entity::find()
        .filter(billing_exemption::Column::ExemptedAt.gte(from))
        .filter(billing_exemption::Column::ExemptedAt.lt(to))
        .order_by_desc(billing_exemption::Column::ExemptedAt)
        .limit(500)
        .all(conn)
        .await
}

// ---- payers and plans -----------------------------------------------------------------

pub async fn insert_payer<C: ConnectionTrait>(conn: &C, row: payer::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn payers<C: ConnectionTrait>(conn: &C) -> Result<Vec<payer::Model>, DbErr> {
    payer::Entity::find().order_by_asc(payer::Column::Name).all(conn).await
}

pub async fn find_payer<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<payer::Model>, DbErr> {
    payer::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_plan<C: ConnectionTrait>(conn: &C, row: insurance_plan::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn plans<C: ConnectionTrait>(conn: &C) -> Result<Vec<insurance_plan::Model>, DbErr> {
    insurance_plan::Entity::find().order_by_asc(insurance_plan::Column::Name).all(conn).await
}

pub async fn find_plan<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<insurance_plan::Model>, DbErr> {
    insurance_plan::Entity::find_by_id(id).one(conn).await
}

// ---- policies -------------------------------------------------------------------------

pub async fn insert_policy<C: ConnectionTrait>(conn: &C, row: insurance_policy::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_policy<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<insurance_policy::Model>, DbErr> {
    insurance_policy::Entity::find_by_id(id).one(conn).await
}

/// A patient's policies, the latest first.
pub async fn policies_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<insurance_policy::Model>, DbErr> {
    insurance_policy::Entity::find()
        .filter(insurance_policy::Column::PatientId.eq(patient))
        .order_by_desc(insurance_policy::Column::ValidTo)
        .limit(50)
        .all(conn)
        .await
}

/// Cancels an active policy; false if it was not active.
pub async fn cancel_policy<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<bool, DbErr> {
    Ok(insurance_policy::Entity::update_many()
        .col_expr(insurance_policy::Column::Status, Expr::value(PolicyStatus::Cancelled))
        .filter(insurance_policy::Column::Id.eq(id))
        .filter(insurance_policy::Column::Status.eq(PolicyStatus::Active))
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

// ---- pre-authorisations ---------------------------------------------------------------

pub async fn insert_preauth<C: ConnectionTrait>(conn: &C, row: preauthorisation::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

pub async fn find_preauth<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<preauthorisation::Model>, DbErr> {
    preauthorisation::Entity::find_by_id(id).one(conn).await
}

versioned_update!(
    /// Saves a pre-authorisation over version `row.version - 1`; false if someone saved first.
    update_preauth,
    preauthorisation
);

pub async fn preauths_of<C: ConnectionTrait>(
    conn: &C,
    patient: Uuid,
) -> Result<Vec<preauthorisation::Model>, DbErr> {
    preauthorisation::Entity::find()
        .filter(preauthorisation::Column::PatientId.eq(patient))
        .order_by_desc(preauthorisation::Column::RequestedAt)
        .limit(100)
        .all(conn)
        .await
}

/// Pre-authorisations waiting for the insurer's answer, oldest first.
pub async fn preauths_waiting<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<preauthorisation::Model>, DbErr> {
    preauthorisation::Entity::find()
        .filter(preauthorisation::Column::Status.eq(PreauthStatus::Requested))
        .order_by_asc(preauthorisation::Column::RequestedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// The approved pre-authorisation of a stay, if any (the latest).
pub async fn approved_preauth_of_stay<C: ConnectionTrait>(
    conn: &C,
    admission: Uuid,
) -> Result<Option<preauthorisation::Model>, DbErr> {
    preauthorisation::Entity::find()
        .filter(preauthorisation::Column::AdmissionId.eq(admission))
        .filter(preauthorisation::Column::Status.eq(PreauthStatus::Approved))
        .order_by_desc(preauthorisation::Column::DecidedAt)
        .one(conn)
        .await
}

pub async fn add_document<C: ConnectionTrait>(
    conn: &C,
    preauth: Uuid,
    attachment: Uuid,
) -> Result<(), DbErr> {
    preauthorisation_document::Model { preauthorisation_id: preauth, attachment_id: attachment }
        .into_active_model()
        .insert(conn)
        .await
        .map(|_| ())
}

/// The attachments sent with pre-authorisations, as (pre-authorisation, attachment).
pub async fn documents_of<C: ConnectionTrait>(
    conn: &C,
    preauths: &[Uuid],
) -> Result<Vec<(Uuid, Uuid)>, DbErr> {
    if preauths.is_empty() {
        return Ok(Vec::new());
    }
    Ok(preauthorisation_document::Entity::find()
        .filter(preauthorisation_document::Column::PreauthorisationId.is_in(preauths.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.preauthorisation_id, d.attachment_id))
        .collect())
}

// ---- claims ---------------------------------------------------------------------------

/// Inserts a claim and its lines. An invoice with a live claim already fails on
/// `claims_invoice_live_key` (the partial unique index decides, whoever raced).
pub async fn insert_claim<C: ConnectionTrait>(
    conn: &C,
    row: claim::Model,
    lines: Vec<claim_line::Model>,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await?;
    crate::insert_all::<claim_line::Entity, _>(conn, lines).await?;
    Ok(())
}

pub async fn find_claim<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<claim::Model>, DbErr> {
    claim::Entity::find_by_id(id).one(conn).await
}

versioned_update!(
    /// Saves a claim over version `row.version - 1`; false if someone saved first.
    update_claim,
    claim
);

pub async fn claim_lines<C: ConnectionTrait>(conn: &C, claim: Uuid) -> Result<Vec<claim_line::Model>, DbErr> {
    claim_line::Entity::find()
        .filter(claim_line::Column::ClaimId.eq(claim))
        .order_by_asc(claim_line::Column::Id)
        .all(conn)
        .await
}

pub async fn claims_of<C: ConnectionTrait>(conn: &C, patient: Uuid) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::PatientId.eq(patient))
        .order_by_desc(claim::Column::CreatedAt)
        .limit(100)
        .all(conn)
        .await
}

/// Claims in `statuses`, oldest first.
pub async fn claims_in<C: ConnectionTrait>(
    conn: &C,
    statuses: &[ClaimStatus],
    limit: u64,
) -> Result<Vec<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(claim::Column::CreatedAt)
        .limit(limit)
        .all(conn)
        .await
}

/// The claim on an invoice still alive (not denied or closed), if any.
pub async fn live_claim_of_invoice<C: ConnectionTrait>(
    conn: &C,
    invoice: Uuid,
) -> Result<Option<claim::Model>, DbErr> {
    claim::Entity::find()
        .filter(claim::Column::InvoiceId.eq(invoice))
        .filter(claim::Column::Status.is_not_in([ClaimStatus::Denied, ClaimStatus::Closed]))
        .one(conn)
        .await
}

/// Whether money of an invoice was claimed from an insurer (a claim submitted or later,
/// not denied): such an invoice is not cancelled.
pub async fn claimed_on_invoice<C: ConnectionTrait>(conn: &C, invoice: Uuid) -> Result<bool, DbErr> {
    Ok(claim::Entity::find()
        .filter(claim::Column::InvoiceId.eq(invoice))
        .filter(claim::Column::Status.is_in(ClaimStatus::COUNTED.iter().copied()))
        .filter(claim::Column::SubmittedAt.is_not_null())
        .filter(Expr::cust("COALESCE(approved_minor, claimed_minor) > 0"))
        .one(conn)
        .await?
        .is_some())
}

/// What the claims on a policy (or on a pre-authorisation) have used of it: the approved
/// amount where decided, the claimed amount until then, over claims submitted or later
/// (a denied claim used nothing).
pub async fn used<C: ConnectionTrait>(
    conn: &C,
    policy: Option<Uuid>,
    preauth: Option<Uuid>,
) -> Result<i64, DbErr> {
    let mut q = claim::Entity::find()
        .select_only()
        .column_as(Expr::cust("COALESCE(approved_minor, claimed_minor)").sum().cast_as("BIGINT"), "used")
        .filter(claim::Column::Status.is_in(ClaimStatus::COUNTED.iter().copied()))
        .filter(claim::Column::SubmittedAt.is_not_null());
    if let Some(p) = policy {
        q = q.filter(claim::Column::PolicyId.eq(p));
    }
    if let Some(p) = preauth {
        q = q.filter(claim::Column::PreauthorisationId.eq(p));
    }
    let used: Option<Option<i64>> = q.into_tuple().one(conn).await?;
    Ok(used.flatten().unwrap_or(0))
}

/// Takes `amount` back off an invoice's payments (an insurer's share it will not pay);
/// false if that much was not paid and kept.
pub async fn unpay_invoice<C: ConnectionTrait>(conn: &C, id: Uuid, amount: i64) -> Result<bool, DbErr> {
    Ok(invoice::Entity::update_many()
        .col_expr(invoice::Column::PaidMinor, Expr::col(invoice::Column::PaidMinor).sub(amount))
        .filter(invoice::Column::Id.eq(id))
        .filter(
            Expr::col(invoice::Column::PaidMinor).sub(amount).gte(Expr::col(invoice::Column::RefundedMinor)),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1)
}

/// One payer's outstanding claims by age since submission (see
/// `salus_core::insurance::AGE_BUCKETS`).
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct AgeingRow {
    pub payer_id: Uuid,
    pub claims: i64,
    pub d30: i64,
    pub d60: i64,
    pub d90: i64,
    pub older: i64,
}

/// What each payer owes on claims submitted and not yet settled, by age at `now`.
pub async fn ageing<C: ConnectionTrait>(conn: &C, now: DateTime<Utc>) -> Result<Vec<AgeingRow>, DbErr> {
    let d = dialect::of(conn);
    let mut p = Params::new(d);
    let days = |n: i64| now - chrono::Duration::days(n);
    let (t30, t60, t90) = (p.add(days(30)), p.add(days(60)), p.add(days(90)));
    let owed = "COALESCE(approved_minor, claimed_minor)";
    let statuses = ClaimStatus::RECEIVABLE.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>();
    let sql = format!(
        "SELECT payer_id, CAST(COUNT(*) AS BIGINT) AS claims, \
         CAST(COALESCE(SUM(CASE WHEN submitted_at >= {t30} THEN {owed} ELSE 0 END), 0) AS BIGINT) AS d30, \
         CAST(COALESCE(SUM(CASE WHEN submitted_at < {t30} AND submitted_at >= {t60} THEN {owed} ELSE 0 END), 0) AS BIGINT) AS d60, \
         CAST(COALESCE(SUM(CASE WHEN submitted_at < {t60} AND submitted_at >= {t90} THEN {owed} ELSE 0 END), 0) AS BIGINT) AS d90, \
         CAST(COALESCE(SUM(CASE WHEN submitted_at < {t90} THEN {owed} ELSE 0 END), 0) AS BIGINT) AS older \
         FROM claims WHERE status IN ({}) GROUP BY payer_id",
        statuses.join(", ")
    );
    AgeingRow::find_by_statement(p.statement(sql)).all(conn).await
}
