//! SMART App Launch: the apps an administrator registered (a client id and the addresses
//! it may be sent back to), the one-time codes a user's consent makes, and the tokens they
//! become — personal API tokens marked with their app and, for patient scopes, the one
//! patient they reach.

use sea_orm_migration::prelude::*;

use super::columns::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000029_smart_apps"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                table("smart_clients")
                    .col(id())
                    .col(text("client_id", 64))
                    .col(text("name", 100))
                    .col(col("redirect_uris").text().not_null())
                    .col(col("active").boolean().not_null().default(true))
                    .col(col("created_by").uuid().null())
                    .col(at("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("smart_clients_client_id_key", "smart_clients", &["client_id"]).unique().to_owned(),
            )
            .await?;
        manager
            .create_table(
                table("oauth_codes")
                    .col(id())
                    .col(text("code_hash", 64))
                    .col(text("client_id", 64))
                    .col(col("user_id").uuid().not_null())
                    .col(col("scope").text().not_null())
                    .col(col("permissions").text().not_null())
                    .col(col("patient_id").uuid().null())
                    .col(col("redirect_uri").text().not_null())
                    .col(text("code_challenge", 128))
                    .col(at("expires_at"))
                    .col(at_null("used_at"))
                    .col(at("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("oauth_codes_code_hash_key", "oauth_codes", &["code_hash"]).unique().to_owned(),
            )
            .await?;
        manager.create_index(index("oauth_codes_patient_idx", "oauth_codes", &["patient_id"])).await?;
        for c in [text_null("client_id", 64), col("patient_id").uuid().null().to_owned()] {
            manager
                .alter_table(Table::alter().table(Alias::new("api_tokens")).add_column(c).to_owned())
                .await?;
        }
        manager.create_index(index("api_tokens_patient_idx", "api_tokens", &["patient_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for c in ["patient_id", "client_id"] {
            manager
                .alter_table(
                    Table::alter().table(Alias::new("api_tokens")).drop_column(Alias::new(c)).to_owned(),
                )
                .await?;
        }
        for t in ["oauth_codes", "smart_clients"] {
            manager.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
