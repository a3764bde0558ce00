//! The rows a use case hands out, as the domain's records (`salus_core`): the doors see
//! these, never an entity. Field for field, so a new column is one line here.

use crate::entity;

macro_rules! record {
    ($($model:ident => $record:path { $($field:ident),+ $(,)? })+) => {$(
        impl From<entity::$model::Model> for $record {
            fn from(m: entity::$model::Model) -> Self {
                Self { $($field: m.$field),+ }
            }
        }
    )+};
}

record! {
    allergy => salus_core::clinical::Allergy { id, patient_id, substance, reaction, severity, status, recorded_by, recorded_at, error_reason, version }
    diagnosis => salus_core::clinical::Diagnosis { id, patient_id, encounter_id, code_system, code, description, clinical_status, onset_date, recorded_by, recorded_at, resolved_at, error_reason, version }
    immunization => salus_core::clinical::Immunization { id, patient_id, vaccine, dose_number, given_on, lot_number, recorded_by, recorded_at, error_reason }
    encounter => salus_core::clinical::Encounter { id, patient_id, appointment_id, class, status, doctor_id, department_id, chief_complaint, started_at, ended_at, error_reason, created_by, created_at, updated_at, version }
    vital => salus_core::clinical::VitalSigns { id, encounter_id, patient_id, recorded_at, recorded_by, temperature_dc, pulse_bpm, systolic, diastolic, respiratory_rate, spo2, weight_g, height_mm, bmi_x10, error_reason }
    note => salus_core::clinical::Note { id, encounter_id, patient_id, author_id, status, amends, amend_reason, subjective, objective, assessment, plan, signed_at, error_reason, created_at, updated_at, version }
    prescription => salus_core::clinical::Prescription { id, patient_id, encounter_id, prescriber_id, medicine_id, medicine_name, dose, route, frequency, duration_days, quantity, instructions, status, status_reason, override_reason, created_at, updated_at, version }
    referral => salus_core::clinical::Referral { id, patient_id, encounter_id, from_doctor_id, to_department_id, to_doctor_id, reason, urgency, status, created_at, updated_at, version }
    attachment => salus_core::clinical::Attachment { id, patient_id, encounter_id, filename, content_type, size_bytes, sha256, uploaded_by, uploaded_at, error_reason }
    medicine => salus_core::clinical::Medicine { id, generic_name, form, strength, route, atc_code, active, version, created_at, updated_at }
    note_template => salus_core::clinical::NoteTemplate { id, department_id, name, subjective, objective, assessment, plan, active, updated_at }
    schedule_template => salus_core::scheduling::ScheduleTemplate { id, doctor_id, department_id, weekday, start_time, end_time, slot_minutes, capacity, overbook, valid_from, valid_until, active, version, created_at, updated_at }
    schedule_exception => salus_core::scheduling::ScheduleException { id, doctor_id, date, kind, start_time, end_time, department_id, slot_minutes, capacity, reason, created_by, created_at }
    notification_template => salus_core::notifications::MessageTemplate { kind, channel, language, subject, body, updated_at, updated_by }
    lab_test => salus_core::laboratory::LabTest { id, code, name, kind, loinc, section, specimen, container, unit, result_type, decimals, method, turnaround_minutes, service_code, formula, answers, delta_percent, active, version }
    lab_reference_range => salus_core::laboratory::ReferenceRange { id, test_id, sex, age_from_days, age_to_days, low, high, critical_low, critical_high, valid_low, valid_high, source }
    lab_order => salus_core::laboratory::LabOrder { id, patient_id, encounter_id, requisition_id, ordered_by, test_id, test_name, priority, clinical_info, status, cancel_reason, specimen_id, service_id, created_at, updated_at, version }
    lab_specimen => salus_core::laboratory::Specimen { id, patient_id, accession, specimen, container, status, collected_by, collected_at, received_by, received_at, reject_reason, reject_note, version }
    lab_result => salus_core::laboratory::LabResult { id, order_id, specimen_id, patient_id, test_id, analyte, loinc, revision, status, value_num, value_text, unit, decimals, flag, ref_low, ref_high, critical_low, critical_high, range_text, delta_percent, calculated, collected_at, entered_by, entered_at, verified_by, verified_at, amend_reason, superseded_at, reviewed_by, reviewed_at }
    lab_critical_alert => salus_core::laboratory::CriticalAlert { id, result_id, patient_id, notify_user_id, summary, created_at, escalate_at, escalated_at, acknowledged_by, acknowledged_at, read_back }
    imaging_procedure => salus_core::imaging::ImagingProcedure { id, code, name, modality, body_part, laterality_required, loinc, duration_minutes, preparation, service_code, active, version }
    imaging_order => salus_core::imaging::ImagingOrder { id, patient_id, encounter_id, procedure_id, procedure_name, modality, body_part, laterality, priority, clinical_question, status, accession, ordered_by, scheduled_at, room, performed_by, performed_at, performed_note, cancel_reason, service_id, created_at, updated_at, version }
    imaging_report => salus_core::imaging::ImagingReport { id, order_id, patient_id, revision, status, findings, impression, written_by, written_at, authorised_by, authorised_at, amend_reason, superseded_at, version }
    stock_item => salus_core::pharmacy::StockItem { id, code, name, kind, medicine_id, brand, form, strength, base_unit, pack_size, tax_code, tax_rate_bp, prescription_only, active, version }
    store => salus_core::pharmacy::Store { id, code, name, kind, facility_id, department_id, active, alert_email, version }
    supplier => salus_core::pharmacy::Supplier { id, name, contact_name, phone, email, tax_id, active, version }
    stock_batch => salus_core::pharmacy::Batch { id, item_id, batch_no, expiry_date, cost_minor, sale_price_minor, supplier_id, held, hold_reason, created_at }
    stock_movement => salus_core::pharmacy::Movement { id, store_id, batch_id, item_id, kind, quantity, balance_after, reason, source_type, source_id, patient_id, created_by, created_at }
    dispense => salus_core::pharmacy::Dispense { id, number, kind, store_id, patient_id, customer_name, dispensed_by, dispensed_at }
    dispense_line => salus_core::pharmacy::DispenseLine { id, dispense_id, patient_id, prescription_id, item_id, item_name, batch_id, batch_no, expiry_date, quantity, returned, unit_price_minor, tax_rate_bp, substituted_for, substitution_reason, override_reason }
    goods_receipt => salus_core::pharmacy::GoodsReceipt { id, number, store_id, supplier_id, invoice_no, order_id, received_by, received_at }
    purchase_order => salus_core::pharmacy::PurchaseOrder { id, number, supplier_id, store_id, status, expected_on, note, ordered_by, ordered_at, closed_by, closed_at, close_reason }
    purchase_order_line => salus_core::pharmacy::OrderLine { id, order_id, item_id, quantity, received, cost_minor }
    stock_transfer => salus_core::pharmacy::Transfer { id, number, from_store_id, to_store_id, status, issued_by, issued_at, received_by, received_at }
    stock_transfer_line => salus_core::pharmacy::TransferLine { id, transfer_id, item_id, batch_id, quantity }
    stock_count => salus_core::pharmacy::StockCount { id, number, store_id, status, created_by, created_at, posted_by, posted_at }
    stock_count_line => salus_core::pharmacy::CountLine { id, count_id, item_id, batch_id, expected, counted, reason }
    ward => salus_core::inpatient::Ward { id, code, name, department_id, store_id, late_minutes, active, version }
    discharge_summary => salus_core::inpatient::nursing::DischargeSummary { id, admission_id, patient_id, diagnoses, procedures, key_results, medicines, follow_up, instructions, status, drafted_by, drafted_at, signed_by, signed_at, version, updated_at }
    nursing_note => salus_core::inpatient::nursing::NursingNote { id, admission_id, patient_id, shift, body, amends_id, author_id, written_at }
    intake_output => salus_core::inpatient::nursing::IntakeOutput { id, admission_id, patient_id, direction, route, volume_ml, measured_at, note, error_reason, recorded_by, recorded_at }
    nursing_task => salus_core::inpatient::nursing::NursingTask { id, admission_id, patient_id, description, due_at, service_code, status, outcome, done_by, done_at, created_by, created_at, version }
    medication_order => salus_core::inpatient::mar::MedicationOrder { id, patient_id, admission_id, medicine_id, medicine_name, item_id, dose, units_per_dose, route, kind, times, instructions, starts_at, ends_at, status, stop_reason, stopped_by, stopped_at, ordered_by, created_at, version }
    medication_administration => salus_core::inpatient::mar::Administration { id, order_id, patient_id, admission_id, due_at, outcome, reason, given_at, late, store_id, amends_id, amend_reason, current, needs_ack, acknowledged_by, acknowledged_at, recorded_by, recorded_at }
    bed => salus_core::inpatient::Bed { id, ward_id, room, label, bed_type, tags, service_code, state, state_reason, reserved_for, active, version, updated_at }
    admission_request => salus_core::inpatient::AdmissionRequest { id, patient_id, encounter_id, requested_by, reason, ward_id, bed_type, expected_days, expected_on, status, cancel_reason, admission_id, created_at }
    admission => salus_core::inpatient::Admission { id, number, patient_id, request_id, encounter_id, attending_id, diagnosis, ward_id, bed_id, status, admitted_by, admitted_at, discharge_ordered_by, discharge_ordered_at, discharged_by, discharged_at, disposition, version }
    bed_assignment => salus_core::inpatient::BedAssignment { id, admission_id, patient_id, bed_id, ward_id, companion, started_at, started_by, ended_at, ended_by, reason }
    charge => salus_core::billing::Charge { id, patient_id, service_id, service_code, description, quantity, unit_price_minor, tax_rate_bp, source_type, source_id, status, invoice_id, created_by, created_at }
    invoice => salus_core::billing::Invoice { id, number, fiscal_year, patient_id, admission_id, kind, status, currency, gross_minor, discount_minor, tax_minor, total_minor, paid_minor, refunded_minor, discount_reason, approved_by, posted_by, posted_at, credit_note_number, cancel_reason, cancelled_by, cancelled_at, print_count }
    invoice_line => salus_core::billing::InvoiceLine { id, invoice_id, position, charge_id, service_code, description, department, quantity, unit_price_minor, tax_rate_bp, gross_minor, discount_minor, tax_minor, net_minor }
    receipt => salus_core::billing::Receipt { id, number, patient_id, invoice_id, kind, method, amount_minor, unapplied_minor, deposit_id, reference, provider_event_id, shift_id, print_count, received_by, received_at }
    refund_request => salus_core::billing::RefundRequest { id, patient_id, deposit_id, invoice_id, amount_minor, method, reason, status, requested_by, requested_at, decided_by, decided_at, decision_note, receipt_id }
    cashier_shift => salus_core::billing::CashierShift { id, cashier_id, float_minor, opened_at, closed_at, expected_minor, counted_minor, variance_minor, close_note }
    payer => salus_core::insurance::Payer { id, code, name, kind, administrator_id, contact, active, created_at }
    insurance_plan => salus_core::insurance::Plan { id, payer_id, code, name, covered, copay_bp, limit_minor, preauth_required, active, created_at }
    insurance_policy => salus_core::insurance::Policy { id, patient_id, plan_id, member_number, holder, valid_from, valid_to, status, created_by, created_at }
    preauthorisation => salus_core::insurance::Preauthorisation { id, number, patient_id, policy_id, admission_id, diagnosis, requested_minor, approved_minor, status, reference, note, requested_by, requested_at, decided_by, decided_at, version }
    claim => salus_core::insurance::Claim { id, number, claim_version, previous_id, patient_id, policy_id, payer_id, invoice_id, preauthorisation_id, status, invoice_total_minor, claimed_minor, patient_share_minor, approved_minor, settled_minor, deductions_minor, decision_note, payer_reference, remittance_reference, created_by, created_at, submitted_at, decided_at, settled_at, closed_at, version }
    claim_line => salus_core::insurance::ClaimLine { id, claim_id, invoice_line_id, description, category, net_minor, insurer_minor, patient_minor }
    audit_event => salus_core::audit::AuditEvent { id, at, actor_id, actor_name, actor_roles, action, outcome, resource_type, resource_id, patient_id, client_ip, request_id, reason, detail }
}
