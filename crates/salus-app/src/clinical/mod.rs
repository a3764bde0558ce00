//! The clinical record: ICD-10-CM (`icd`), and — as they arrive — encounters, notes,
//! diagnoses, allergies and prescriptions.

pub mod icd;
