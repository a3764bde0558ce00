//! Background work's vocabulary.

coded!(
    /// Where a background job stands: waiting (or waiting for its retry), claimed by an
    /// instance, finished, or given up after its last attempt.
    pub enum JobStatus {
        Queued,
        Running,
        Done,
        Dead,
    }
);
