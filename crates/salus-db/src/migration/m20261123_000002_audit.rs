//! The audit trail: events (append-only), the seals of the hash chain (append-only) and
//! the queue of events waiting to be sealed. Triggers refuse UPDATE and DELETE on events
//! and seals on both databases; the trigger language differs, so this migration matches
//! on the backend.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000002_audit"
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    ActorName,
    ActorRoles,
    Action,
    Outcome,
    ResourceType,
    ResourceId,
    PatientId,
    ClientIp,
    RequestId,
    Reason,
    Detail,
}

#[derive(DeriveIden)]
enum AuditSeals {
    Table,
    Seq,
    EventId,
    PrevHash,
    Hash,
    SealedAt,
}

#[derive(DeriveIden)]
enum AuditPending {
    Table,
    EventId,
}

const SQLITE_TRIGGERS: &str = "
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
  BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
";

const POSTGRES_TRIGGERS: &str = "
CREATE FUNCTION salus_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit records are append-only (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION salus_audit_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION salus_audit_append_only();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
  FOR EACH ROW EXECUTE FUNCTION salus_audit_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
  FOR EACH STATEMENT EXECUTE FUNCTION salus_audit_append_only();
";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::ActorName).string_len(100).not_null())
                    .col(ColumnDef::new(AuditEvents::ActorRoles).string_len(200).not_null())
                    .col(ColumnDef::new(AuditEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(AuditEvents::ResourceType).string_len(64).not_null())
                    .col(ColumnDef::new(AuditEvents::ResourceId).string_len(100).null())
                    .col(ColumnDef::new(AuditEvents::PatientId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::ClientIp).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::Reason).string_len(500).null())
                    .col(ColumnDef::new(AuditEvents::Detail).text().null())
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("audit_events_at_idx", vec![AuditEvents::At]),
            ("audit_events_actor_idx", vec![AuditEvents::ActorId, AuditEvents::At]),
            ("audit_events_patient_idx", vec![AuditEvents::PatientId, AuditEvents::At]),
            ("audit_events_action_idx", vec![AuditEvents::Action, AuditEvents::At]),
        ] {
            let mut index = Index::create().name(name).table(AuditEvents::Table).to_owned();
            for c in cols {
                index.col(c);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditSeals::Table)
                    .col(ColumnDef::new(AuditSeals::Seq).big_integer().not_null().primary_key())
                    .col(ColumnDef::new(AuditSeals::EventId).uuid().not_null())
                    .col(ColumnDef::new(AuditSeals::PrevHash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditSeals::Hash).string_len(64).not_null())
                    .col(ColumnDef::new(AuditSeals::SealedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_seals_event_id_key")
                    .table(AuditSeals::Table)
                    .col(AuditSeals::EventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditPending::Table)
                    .col(ColumnDef::new(AuditPending::EventId).uuid().not_null().primary_key())
                    .to_owned(),
            )
            .await?;
        let triggers = match manager.get_database_backend() {
            DbBackend::Postgres => POSTGRES_TRIGGERS,
            _ => SQLITE_TRIGGERS,
        };
        manager.get_connection().execute_unprepared(triggers).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditPending::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AuditSeals::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await
    }
}
