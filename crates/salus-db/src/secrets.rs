//! Secrets shared by every instance of an installation (see the `server_secrets` table).

use chrono::Utc;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::Db;
use crate::entity::server_secret;

/// The secret called `name`: the stored one, or else `candidate`, stored now. Two
/// instances starting together both offer theirs; the first insert wins and both read
/// it back, so they end up with the same one.
pub async fn shared_secret(db: &Db, name: &str, candidate: String) -> Result<String, sea_orm::DbErr> {
    server_secret::Entity::insert(server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(candidate),
        created_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing()
    .exec(db.writer())
    .await?;
    server_secret::Entity::find_by_id(name.to_owned())
        .one(db.writer())
        .await?
        .map(|row| row.value)
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("server secret {name}")))
}
