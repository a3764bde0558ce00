//! The unbilled charge a context records when it does something billable: priced from
//! the price-list service as it stands at that moment, linked to its source so the same
//! event never charges twice (the database's unique source key sees to that).

use chrono::{DateTime, Utc};
use salus_db::entity::{charge, service};
use uuid::Uuid;

/// One unit of `service` for `patient`, caused by `source_type`/`source_id`.
pub(crate) fn unbilled(
    service: &service::Model,
    patient: Uuid,
    description: &str,
    (source_type, source_id): (&str, Uuid),
    by: Uuid,
    at: DateTime<Utc>,
) -> charge::Model {
    charge::Model {
        id: Uuid::now_v7(),
        patient_id: patient,
        service_id: service.id,
        service_code: service.code.clone(),
        description: description.to_owned(),
        quantity: 1,
        unit_price_minor: service.price_minor,
        tax_rate_bp: service.tax_rate_bp,
        source_type: source_type.into(),
        source_id,
        status: "unbilled".into(),
        invoice_id: None,
        created_by: by,
        created_at: at,
    }
}
