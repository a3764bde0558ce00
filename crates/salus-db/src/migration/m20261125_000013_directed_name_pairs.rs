//! Name-pair search keys in both word orders. A pair was stored once, its words sorted
//! ("pr:kumar ravi"), which finds a whole name typed out but not one still being typed:
//! "ravi ku" must read the range of keys starting "pr:ravi ku", so every pair is now also
//! kept with its words the other way round. This adds the missing order to existing rows;
//! new rows get both from the application.

use sea_orm::DatabaseBackend;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000013_directed_name_pairs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Name words are folded to [a-z0-9], so a pair key holds exactly one space.
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                "INSERT INTO patient_keys (key, patient_id) \
                 SELECT 'pr:' || split_part(substr(key, 4), ' ', 2) || ' ' || split_part(substr(key, 4), ' ', 1), \
                        patient_id \
                 FROM patient_keys WHERE key >= 'pr:' AND key < 'pr;' AND position(' ' in key) > 0 \
                 ON CONFLICT DO NOTHING"
            }
            _ => {
                "INSERT OR IGNORE INTO patient_keys (key, patient_id) \
                 SELECT 'pr:' || substr(key, instr(key, ' ') + 1) || ' ' || substr(key, 4, instr(key, ' ') - 4), \
                        patient_id \
                 FROM patient_keys WHERE key >= 'pr:' AND key < 'pr;' AND instr(key, ' ') > 0"
            }
        };
        manager.get_connection().execute_unprepared(sql).await.map(|_| ())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Both orders are valid keys; the extra ones are harmless to an older binary.
        Ok(())
    }
}
