//! Background jobs and the notification outbox.
//!
//! `jobs` is the queue every instance's workers share: a job is claimed by setting it
//! `running` with a lease (`locked_until`); on PostgreSQL the claim skips rows another
//! instance has locked, so no job runs twice; a worker that dies leaves its lease to run
//! out and the job is claimed again. Failures retry with backoff until `max_attempts`,
//! then the job is `dead` until an administrator retries it. Scheduled work is a job with
//! a later `run_at`.
//!
//! `notifications` is the outbox: a row written in the same transaction as the event it
//! tells of (a booking, a cancellation…), with a job to send it at `send_at`. Templates
//! are rows administrators edit (minijinja), per kind, channel and language.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000009_jobs_and_notifications"
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    Kind,
    Payload,
    Status,
    RunAt,
    Attempts,
    MaxAttempts,
    LastError,
    LockedBy,
    LockedUntil,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    PatientId,
    AppointmentId,
    Kind,
    Channel,
    Recipient,
    Language,
    Context,
    Status,
    Attempts,
    LastError,
    SendAt,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationTemplates {
    Table,
    Kind,
    Channel,
    Language,
    Subject,
    Body,
    UpdatedAt,
    UpdatedBy,
}

/// Templates a new installation starts with: (kind, channel, language, subject, body).
const TEMPLATES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "appointment_booked",
        "email",
        "en",
        "Your appointment on {{ date }} at {{ time }}",
        "Dear {{ patient }},\n\nYour appointment with {{ doctor }} is booked for {{ date }} at {{ time }} at {{ facility }}.\n\nTo change it, call us{% if facility_phone %} on {{ facility_phone }}{% endif %}.\n",
    ),
    (
        "appointment_booked",
        "sms",
        "en",
        "",
        "{{ facility }}: appointment with {{ doctor }} on {{ date }} at {{ time }}.",
    ),
    (
        "appointment_reminder",
        "email",
        "en",
        "Reminder: your appointment {{ when }}",
        "Dear {{ patient }},\n\nThis is a reminder of your appointment with {{ doctor }} on {{ date }} at {{ time }} at {{ facility }}.\n",
    ),
    (
        "appointment_reminder",
        "sms",
        "en",
        "",
        "Reminder: {{ doctor }} on {{ date }} at {{ time }}, {{ facility }}.",
    ),
    (
        "appointment_cancelled",
        "email",
        "en",
        "Your appointment on {{ date }} is cancelled",
        "Dear {{ patient }},\n\nYour appointment with {{ doctor }} on {{ date }} at {{ time }} is cancelled.\n",
    ),
    (
        "appointment_cancelled",
        "sms",
        "en",
        "",
        "{{ facility }}: your appointment on {{ date }} at {{ time }} is cancelled.",
    ),
    (
        "appointment_rescheduled",
        "email",
        "en",
        "Your appointment has moved to {{ date }} at {{ time }}",
        "Dear {{ patient }},\n\nYour appointment with {{ doctor }} is now on {{ date }} at {{ time }} at {{ facility }}.\n",
    ),
    (
        "appointment_rescheduled",
        "sms",
        "en",
        "",
        "{{ facility }}: your appointment is now on {{ date }} at {{ time }} with {{ doctor }}.",
    ),
    (
        "appointment_booked",
        "sms",
        "ta",
        "",
        "{{ facility }}: {{ doctor }} அவர்களுடன் உங்கள் சந்திப்பு {{ date }} அன்று {{ time }} மணிக்கு.",
    ),
    (
        "appointment_reminder",
        "sms",
        "ta",
        "",
        "நினைவூட்டல்: {{ doctor }}, {{ date }} {{ time }}, {{ facility }}.",
    ),
    (
        "appointment_booked",
        "sms",
        "hi",
        "",
        "{{ facility }}: {{ doctor }} के साथ आपकी मुलाक़ात {{ date }} को {{ time }} बजे है।",
    ),
    (
        "appointment_reminder",
        "sms",
        "hi",
        "",
        "याद दिलाना: {{ doctor }}, {{ date }} {{ time }}, {{ facility }}।",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Jobs as J;
        manager
            .create_table(
                Table::create()
                    .table(J::Table)
                    .col(ColumnDef::new(J::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(J::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(J::Payload).text().not_null())
                    // queued, running, done, dead
                    .col(ColumnDef::new(J::Status).string_len(16).not_null())
                    .col(ColumnDef::new(J::RunAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(J::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(J::MaxAttempts).integer().not_null())
                    .col(ColumnDef::new(J::LastError).text().null())
                    .col(ColumnDef::new(J::LockedBy).string_len(100).null())
                    .col(ColumnDef::new(J::LockedUntil).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(J::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(J::UpdatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("jobs_due_idx").table(J::Table).col(J::Status).col(J::RunAt).to_owned(),
            )
            .await?;

        use Notifications as N;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(ColumnDef::new(N::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(N::PatientId).uuid().not_null())
                    .col(ColumnDef::new(N::AppointmentId).uuid().null())
                    .col(ColumnDef::new(N::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(N::Channel).string_len(8).not_null())
                    .col(ColumnDef::new(N::Recipient).string_len(320).not_null())
                    .col(ColumnDef::new(N::Language).string_len(8).not_null())
                    // The values the template is rendered with, as JSON.
                    .col(ColumnDef::new(N::Context).text().not_null())
                    // pending, sent, failed, cancelled
                    .col(ColumnDef::new(N::Status).string_len(12).not_null())
                    .col(ColumnDef::new(N::Attempts).integer().not_null().default(0))
                    .col(ColumnDef::new(N::LastError).text().null())
                    .col(ColumnDef::new(N::SendAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(N::SentAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(N::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(N::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("notifications_patient_fk")
                            .from(N::Table, N::PatientId)
                            .to(Alias::new("patients"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("notifications_appointment_idx", vec![N::AppointmentId]),
            ("notifications_status_idx", vec![N::Status, N::SendAt]),
            ("notifications_patient_idx", vec![N::PatientId, N::CreatedAt]),
        ] {
            let mut i = Index::create().name(name).table(N::Table).to_owned();
            for c in cols {
                i.col(c);
            }
            manager.create_index(i).await?;
        }

        use NotificationTemplates as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(ColumnDef::new(T::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(T::Channel).string_len(8).not_null())
                    .col(ColumnDef::new(T::Language).string_len(8).not_null())
                    .col(ColumnDef::new(T::Subject).string_len(300).not_null())
                    .col(ColumnDef::new(T::Body).text().not_null())
                    .col(ColumnDef::new(T::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(T::UpdatedBy).uuid().null())
                    .primary_key(Index::create().col(T::Kind).col(T::Channel).col(T::Language))
                    .to_owned(),
            )
            .await?;
        let now = chrono::Utc::now();
        let mut seed = Query::insert()
            .into_table(T::Table)
            .columns([T::Kind, T::Channel, T::Language, T::Subject, T::Body, T::UpdatedAt])
            .to_owned();
        for (kind, channel, language, subject, body) in TEMPLATES {
            seed.values_panic([
                (*kind).into(),
                (*channel).into(),
                (*language).into(),
                (*subject).into(),
                (*body).into(),
                now.into(),
            ]);
        }
        manager.exec_stmt(seed).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["notification_templates", "notifications", "jobs"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
