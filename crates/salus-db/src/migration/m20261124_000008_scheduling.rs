//! Scheduling: weekly session templates per doctor, exceptions (leave, holidays, extra
//! sessions), appointments and the walk-in token counter.
//!
//! Slot times are the facility's local wall clock (`slot_date` + `slot_time` "HH:MM"), so
//! a change of daylight saving time never moves a booked appointment; `starts_at` is the
//! same moment in UTC, for ordering and reminders.
//!
//! No double booking, decided by the database: an appointment holding a place in a slot
//! has a `seat` from 1 to the slot's capacity, and (doctor, date, time, seat) is unique. A
//! cancelled, rescheduled or no-show appointment gives its seat back (NULL, which a unique
//! index never counts), so the slot opens again. Two instances racing for the last seat:
//! one insert wins, the other hits the index and is told the slot is taken.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000008_scheduling"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Patients {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Departments {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScheduleTemplates {
    Table,
    Id,
    DoctorId,
    DepartmentId,
    Weekday,
    StartTime,
    EndTime,
    SlotMinutes,
    Capacity,
    Overbook,
    ValidFrom,
    ValidUntil,
    Active,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ScheduleExceptions {
    Table,
    Id,
    DoctorId,
    Date,
    Kind,
    StartTime,
    EndTime,
    DepartmentId,
    SlotMinutes,
    Capacity,
    Reason,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Appointments {
    Table,
    Id,
    PatientId,
    DoctorId,
    DepartmentId,
    SlotDate,
    SlotTime,
    StartsAt,
    DurationMinutes,
    Seat,
    Kind,
    Status,
    Reason,
    Token,
    CancelReason,
    RescheduledTo,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    CheckedInAt,
    StartedAt,
    FinishedAt,
    Version,
}

#[derive(DeriveIden)]
enum QueueTokens {
    Table,
    DoctorId,
    Date,
    NextValue,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ScheduleTemplates as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(ColumnDef::new(T::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(T::DoctorId).uuid().not_null())
                    .col(ColumnDef::new(T::DepartmentId).uuid().not_null())
                    // ISO weekday: 1 Monday … 7 Sunday.
                    .col(ColumnDef::new(T::Weekday).small_integer().not_null())
                    .col(ColumnDef::new(T::StartTime).string_len(5).not_null())
                    .col(ColumnDef::new(T::EndTime).string_len(5).not_null())
                    .col(ColumnDef::new(T::SlotMinutes).integer().not_null())
                    .col(ColumnDef::new(T::Capacity).integer().not_null())
                    // Extra places reception may give beyond capacity, knowingly (0: none).
                    .col(ColumnDef::new(T::Overbook).integer().not_null().default(0))
                    .col(ColumnDef::new(T::ValidFrom).date().not_null())
                    .col(ColumnDef::new(T::ValidUntil).date().null())
                    .col(ColumnDef::new(T::Active).boolean().not_null().default(true))
                    .col(ColumnDef::new(T::Version).integer().not_null().default(1))
                    .col(ColumnDef::new(T::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(T::UpdatedAt).timestamp_with_time_zone().not_null())
                    .check(Expr::col(T::Weekday).between(1, 7))
                    .check(Expr::col(T::SlotMinutes).between(5, 240))
                    .check(Expr::col(T::Capacity).between(1, 50))
                    .check(Expr::col(T::Overbook).between(0, 50))
                    .foreign_key(&mut fk(
                        "schedule_templates_doctor_fk",
                        (T::Table, T::DoctorId),
                        (Users::Table, Users::Id),
                    ))
                    .foreign_key(&mut fk(
                        "schedule_templates_department_fk",
                        (T::Table, T::DepartmentId),
                        (Departments::Table, Departments::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("schedule_templates_doctor_idx")
                    .table(T::Table)
                    .col(T::DoctorId)
                    .col(T::Weekday)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("schedule_templates_department_idx")
                    .table(T::Table)
                    .col(T::DepartmentId)
                    .to_owned(),
            )
            .await?;

        use ScheduleExceptions as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::Id).uuid().not_null().primary_key())
                    // NULL: every doctor (a public holiday).
                    .col(ColumnDef::new(E::DoctorId).uuid().null())
                    .col(ColumnDef::new(E::Date).date().not_null())
                    // "leave" (no sessions, the whole day or between the times) or "extra".
                    .col(ColumnDef::new(E::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(E::StartTime).string_len(5).null())
                    .col(ColumnDef::new(E::EndTime).string_len(5).null())
                    .col(ColumnDef::new(E::DepartmentId).uuid().null())
                    .col(ColumnDef::new(E::SlotMinutes).integer().null())
                    .col(ColumnDef::new(E::Capacity).integer().null())
                    .col(ColumnDef::new(E::Reason).string_len(200).null())
                    .col(ColumnDef::new(E::CreatedBy).uuid().null())
                    .col(ColumnDef::new(E::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut fk(
                        "schedule_exceptions_doctor_fk",
                        (E::Table, E::DoctorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("schedule_exceptions_date_idx").table(E::Table).col(E::Date).to_owned(),
            )
            .await?;

        use Appointments as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(ColumnDef::new(A::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(A::PatientId).uuid().not_null())
                    .col(ColumnDef::new(A::DoctorId).uuid().not_null())
                    .col(ColumnDef::new(A::DepartmentId).uuid().null())
                    .col(ColumnDef::new(A::SlotDate).date().not_null())
                    // NULL for a walk-in, who has a token instead of a time.
                    .col(ColumnDef::new(A::SlotTime).string_len(5).null())
                    .col(ColumnDef::new(A::StartsAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::DurationMinutes).integer().not_null())
                    .col(ColumnDef::new(A::Seat).integer().null())
                    .col(ColumnDef::new(A::Kind).string_len(8).not_null())
                    .col(ColumnDef::new(A::Status).string_len(16).not_null())
                    .col(ColumnDef::new(A::Reason).string_len(300).null())
                    .col(ColumnDef::new(A::Token).integer().null())
                    .col(ColumnDef::new(A::CancelReason).string_len(300).null())
                    .col(ColumnDef::new(A::RescheduledTo).uuid().null())
                    .col(ColumnDef::new(A::CreatedBy).uuid().null())
                    .col(ColumnDef::new(A::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::UpdatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(A::CheckedInAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(A::StartedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(A::FinishedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(A::Version).integer().not_null().default(1))
                    .check(Expr::col(A::Seat).is_null().or(Expr::col(A::Seat).gte(1)))
                    .foreign_key(
                        fk(
                            "appointments_patient_fk",
                            (A::Table, A::PatientId),
                            (Patients::Table, Patients::Id),
                        )
                        .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut fk(
                        "appointments_doctor_fk",
                        (A::Table, A::DoctorId),
                        (Users::Table, Users::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("appointments_seat_key")
                    .table(A::Table)
                    .col(A::DoctorId)
                    .col(A::SlotDate)
                    .col(A::SlotTime)
                    .col(A::Seat)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("appointments_patient_idx", vec![A::PatientId, A::StartsAt]),
            ("appointments_date_idx", vec![A::SlotDate, A::DoctorId]),
        ] {
            let mut i = Index::create().name(name).table(A::Table).to_owned();
            for c in cols {
                i.col(c);
            }
            manager.create_index(i).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("appointments_token_key")
                    .table(A::Table)
                    .col(A::DoctorId)
                    .col(A::SlotDate)
                    .col(A::Token)
                    .unique()
                    .to_owned(),
            )
            .await?;

        use QueueTokens as Q;
        manager
            .create_table(
                Table::create()
                    .table(Q::Table)
                    .col(ColumnDef::new(Q::DoctorId).uuid().not_null())
                    .col(ColumnDef::new(Q::Date).date().not_null())
                    .col(ColumnDef::new(Q::NextValue).integer().not_null())
                    .primary_key(Index::create().col(Q::DoctorId).col(Q::Date))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["queue_tokens", "appointments", "schedule_exceptions", "schedule_templates"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
