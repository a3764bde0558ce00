//! SMART App Launch's rows: the registered apps and their one-time codes (the tokens
//! they become are API tokens, beside the others in `identity`).

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

pub async fn insert_smart_client<C: ConnectionTrait>(
    conn: &C,
    row: crate::entity::smart_client::Model,
) -> Result<(), DbErr> {
    use crate::entity::smart_client;
    smart_client::Entity::insert(smart_client::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

pub async fn find_smart_client<C: ConnectionTrait>(
    conn: &C,
    client_id: &str,
) -> Result<Option<crate::entity::smart_client::Model>, DbErr> {
    use crate::entity::smart_client::{Column, Entity};
    Entity::find().filter(Column::ClientId.eq(client_id)).one(conn).await
}

pub async fn smart_clients<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<crate::entity::smart_client::Model>, DbErr> {
    use crate::entity::smart_client::{Column, Entity};
    Entity::find().order_by_asc(Column::Name).all(conn).await
}

pub async fn insert_oauth_code<C: ConnectionTrait>(
    conn: &C,
    row: crate::entity::oauth_code::Model,
) -> Result<(), DbErr> {
    use crate::entity::oauth_code;
    oauth_code::Entity::insert(oauth_code::ActiveModel::from(row))
        .exec_without_returning(conn)
        .await
        .map(|_| ())
}

/// Takes a code by its hash: marks it used, if it was not, and returns it; `None` when
/// there is no such code or it was used already (a code is redeemed once, even when two
/// redeem it at the same moment).
pub async fn take_oauth_code<C: ConnectionTrait>(
    conn: &C,
    code_hash: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<crate::entity::oauth_code::Model>, DbErr> {
    use crate::entity::oauth_code::{Column, Entity};
    let taken = Entity::update_many()
        .col_expr(Column::UsedAt, sea_orm::sea_query::Expr::value(now))
        .filter(Column::CodeHash.eq(code_hash))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    Entity::find().filter(Column::CodeHash.eq(code_hash)).one(conn).await
}
