//! The clinical record: ICD-10-CM (`icd`), encounters with vitals and notes
//! (`encounters`), and the problem list, allergies and immunizations (`problems`).
//! Every read is audited against the patient; every write in its transaction.

pub mod encounters;
pub mod icd;
pub mod prescriptions;
pub mod problems;
pub mod referrals;
pub mod summary;
pub mod workspace;

pub use encounters::{EncounterView, NewEncounter, Soap};
pub use summary::ClinicalSummary;
pub use workspace::{Choices, EncounterWorkspace};
