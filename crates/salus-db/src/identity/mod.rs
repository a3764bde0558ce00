//! Queries for users, roles and sessions. Permissions are decided by the caller; these
//! functions only read and write rows, on whatever connection or transaction they get.

use crate::merge::PatientLink;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{api_token, session, user, user_role};

mod revocations;
mod smart;
pub use revocations::{Revocation, purge_revocations, revocations_since};
pub use smart::{find_smart_client, insert_oauth_code, insert_smart_client, smart_clients, take_oauth_code};

/// Patient accounts follow their record through a merge.
/// A patient account follows its record; so do a SMART app's token and its code, so an
/// app launched with a patient keeps reaching the record in use.
pub const PATIENT_LINKS: &[PatientLink] =
    &[PatientLink::follows("users"), PatientLink::follows("api_tokens"), PatientLink::follows("oauth_codes")];

/// A user row with its roles (as stored strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub user: user::Model,
    pub roles: Vec<String>,
}

pub async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    row: user::Model,
    roles: &[String],
) -> Result<(), DbErr> {
    let id = row.id;
    user::ActiveModel {
        id: Set(row.id),
        username: Set(row.username),
        display_name: Set(row.display_name),
        password_hash: Set(row.password_hash),
        active: Set(row.active),
        must_change_password: Set(row.must_change_password),
        totp_secret: Set(row.totp_secret),
        totp_enabled_at: Set(row.totp_enabled_at),
        totp_last_step: Set(row.totp_last_step),
        two_factor_required: Set(row.two_factor_required),
        patient_id: Set(row.patient_id),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
    }
    .insert(conn)
    .await?;
    insert_roles(conn, id, roles).await
}

async fn insert_roles<C: ConnectionTrait>(conn: &C, user_id: Uuid, roles: &[String]) -> Result<(), DbErr> {
    if roles.is_empty() {
        return Ok(());
    }
    user_role::Entity::insert_many(
        roles.iter().map(|r| user_role::ActiveModel { user_id: Set(user_id), role: Set(r.clone()) }),
    )
    .exec(conn)
    .await
    .map(|_| ())
}

pub(crate) async fn with_roles<C: ConnectionTrait>(
    conn: &C,
    users: Vec<user::Model>,
) -> Result<Vec<UserRow>, DbErr> {
    let ids: Vec<Uuid> = users.iter().map(|u| u.id).collect();
    let roles = if ids.is_empty() {
        Vec::new()
    } else {
        user_role::Entity::find()
            .filter(user_role::Column::UserId.is_in(ids))
            .order_by_asc(user_role::Column::Role)
            .all(conn)
            .await?
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let roles = roles.iter().filter(|r| r.user_id == u.id).map(|r| r.role.clone()).collect();
            UserRow { user: u, roles }
        })
        .collect())
}

pub async fn find_user_by_username<C: ConnectionTrait>(
    conn: &C,
    username: &str,
) -> Result<Option<UserRow>, DbErr> {
    let found = user::Entity::find().filter(user::Column::Username.eq(username)).one(conn).await?;
    Ok(with_roles(conn, found.into_iter().collect()).await?.pop())
}

pub async fn find_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<UserRow>, DbErr> {
    let found = user::Entity::find_by_id(id).one(conn).await?;
    Ok(with_roles(conn, found.into_iter().collect()).await?.pop())
}

/// The usernames of `ids` (those that exist), in one query.
pub async fn usernames_of<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, DbErr> {
    Ok(users_of(conn, ids).await?.into_iter().map(|u| (u.id, u.username)).collect())
}

/// The names staff are shown by, of `ids` (those that exist), in one query: who wrote,
/// performed or authorised something, on a report.
pub async fn display_names_of<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String)>, DbErr> {
    Ok(users_of(conn, ids).await?.into_iter().map(|u| (u.id, u.display_name)).collect())
}

async fn users_of<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<user::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    user::Entity::find().filter(user::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

/// Users in id (creation) order after `after`, at most `limit`; two queries in all.
pub async fn list_users<C: ConnectionTrait>(
    conn: &C,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<UserRow>, DbErr> {
    let mut q = user::Entity::find().order_by_asc(user::Column::Id).limit(limit);
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    let users = q.all(conn).await?;
    with_roles(conn, users).await
}

pub async fn count_users<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    user::Entity::find().count(conn).await
}

pub async fn usernames_present<C: ConnectionTrait>(conn: &C, names: &[&str]) -> Result<Vec<String>, DbErr> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.is_in(names.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| u.username)
        .collect())
}

pub async fn replace_roles<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    roles: &[String],
) -> Result<(), DbErr> {
    user_role::Entity::delete_many().filter(user_role::Column::UserId.eq(user_id)).exec(conn).await?;
    insert_roles(conn, user_id, roles).await
}

/// Returns whether a row was changed.
pub async fn set_active<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    active: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::value(active))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Sets a new password hash and whether the user must change it at next sign-in.
pub async fn set_password_hash<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(must_change))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

pub async fn insert_session<C: ConnectionTrait>(conn: &C, row: session::Model) -> Result<(), DbErr> {
    session::ActiveModel {
        id: Set(row.id),
        token_hash: Set(row.token_hash),
        user_id: Set(row.user_id),
        csrf_token: Set(row.csrf_token),
        created_at: Set(row.created_at),
        last_seen_at: Set(row.last_seen_at),
        expires_at: Set(row.expires_at),
        client_ip: Set(row.client_ip),
        user_agent: Set(row.user_agent),
        second_factor_pending: Set(row.second_factor_pending),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

pub async fn touch_session<C: ConnectionTrait>(conn: &C, id: Uuid, now: DateTime<Utc>) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::LastSeenAt, Expr::value(now))
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

pub async fn delete_session<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<(), DbErr> {
    session::Entity::delete_by_id(id).exec(conn).await.map(|_| ())
}

pub async fn delete_sessions_of_user<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Removes sessions past their absolute expiry or idle since before `idle_cutoff`.
pub async fn delete_expired_sessions<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
    idle_cutoff: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(now).or(session::Column::LastSeenAt.lt(idle_cutoff)))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Active users holding `role`, other than `except`.
pub async fn count_active_with_role_except<C: ConnectionTrait>(
    conn: &C,
    role: &str,
    except: Uuid,
) -> Result<u64, DbErr> {
    let holders = sea_orm::sea_query::Query::select()
        .column(user_role::Column::UserId)
        .from(user_role::Entity)
        .and_where(user_role::Column::Role.eq(role))
        .to_owned();
    user::Entity::find()
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(except))
        .filter(user::Column::Id.in_subquery(holders))
        .count(conn)
        .await
}

/// A session with its user and the user's roles, in one round trip: this runs on every
/// signed-in request. One row comes back per role (or one with no role).
pub async fn find_session_with_user<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<(session::Model, UserRow)>, DbErr> {
    use sea_orm::sea_query::{Alias, Expr as E, JoinType, Query};
    let s = |c: session::Column| E::col((session::Entity, c));
    let u = |c: user::Column| E::col((user::Entity, c));
    let stmt = Query::select()
        .expr_as(s(session::Column::Id), Alias::new("s_id"))
        .expr_as(s(session::Column::UserId), Alias::new("s_user_id"))
        .expr_as(s(session::Column::TokenHash), Alias::new("s_token_hash"))
        .expr_as(s(session::Column::CsrfToken), Alias::new("s_csrf_token"))
        .expr_as(s(session::Column::CreatedAt), Alias::new("s_created_at"))
        .expr_as(s(session::Column::LastSeenAt), Alias::new("s_last_seen_at"))
        .expr_as(s(session::Column::ExpiresAt), Alias::new("s_expires_at"))
        .expr_as(s(session::Column::ClientIp), Alias::new("s_client_ip"))
        .expr_as(s(session::Column::UserAgent), Alias::new("s_user_agent"))
        .expr_as(s(session::Column::SecondFactorPending), Alias::new("s_second_factor_pending"))
        .expr_as(u(user::Column::Username), Alias::new("u_username"))
        .expr_as(u(user::Column::DisplayName), Alias::new("u_display_name"))
        .expr_as(u(user::Column::Active), Alias::new("u_active"))
        .expr_as(u(user::Column::MustChangePassword), Alias::new("u_must_change_password"))
        .expr_as(u(user::Column::TotpEnabledAt), Alias::new("u_totp_enabled_at"))
        .expr_as(u(user::Column::TwoFactorRequired), Alias::new("u_two_factor_required"))
        .expr_as(u(user::Column::PatientId), Alias::new("u_patient_id"))
        .expr_as(u(user::Column::CreatedAt), Alias::new("u_created_at"))
        .expr_as(u(user::Column::UpdatedAt), Alias::new("u_updated_at"))
        .expr_as(E::col((user_role::Entity, user_role::Column::Role)), Alias::new("r_role"))
        .from(session::Entity)
        .join(
            JoinType::InnerJoin,
            user::Entity,
            u(user::Column::Id).equals((session::Entity, session::Column::UserId)),
        )
        .join(
            JoinType::LeftJoin,
            user_role::Entity,
            E::col((user_role::Entity, user_role::Column::UserId)).equals((user::Entity, user::Column::Id)),
        )
        .and_where(s(session::Column::TokenHash).eq(token_hash))
        .to_owned();
    let rows = conn.query_all(&stmt).await?;
    let Some(first) = rows.first() else { return Ok(None) };
    let session = session::Model {
        id: first.try_get("", "s_id")?,
        token_hash: first.try_get("", "s_token_hash")?,
        user_id: first.try_get("", "s_user_id")?,
        csrf_token: first.try_get("", "s_csrf_token")?,
        created_at: first.try_get("", "s_created_at")?,
        last_seen_at: first.try_get("", "s_last_seen_at")?,
        expires_at: first.try_get("", "s_expires_at")?,
        client_ip: first.try_get("", "s_client_ip")?,
        user_agent: first.try_get("", "s_user_agent")?,
        second_factor_pending: first.try_get("", "s_second_factor_pending")?,
    };
    let user = user::Model {
        id: session.user_id,
        username: first.try_get("", "u_username")?,
        display_name: first.try_get("", "u_display_name")?,
        // Never needed by a request's session; the hash stays in the database.
        password_hash: String::new(),
        active: first.try_get("", "u_active")?,
        must_change_password: first.try_get("", "u_must_change_password")?,
        // Neither is needed to serve a request: only whether a second factor is set up.
        totp_secret: None,
        totp_enabled_at: first.try_get("", "u_totp_enabled_at")?,
        totp_last_step: None,
        two_factor_required: first.try_get("", "u_two_factor_required")?,
        patient_id: first.try_get("", "u_patient_id")?,
        created_at: first.try_get("", "u_created_at")?,
        updated_at: first.try_get("", "u_updated_at")?,
    };
    let mut roles = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(role) = row.try_get::<Option<String>>("", "r_role")? {
            roles.push(role);
        }
    }
    roles.sort();
    Ok(Some((session, UserRow { user, roles })))
}

/// The failure counters for `keys` that exist.
pub async fn login_failures<C: ConnectionTrait>(
    conn: &C,
    keys: &[String],
) -> Result<Vec<crate::entity::login_failure::Model>, DbErr> {
    use crate::entity::login_failure;
    login_failure::Entity::find()
        .filter(login_failure::Column::Key.is_in(keys.iter().cloned()))
        .all(conn)
        .await
}

/// Writes a counter (insert or replace).
pub async fn put_login_failure<C: ConnectionTrait>(
    conn: &C,
    row: crate::entity::login_failure::Model,
) -> Result<(), DbErr> {
    use crate::entity::login_failure::{ActiveModel, Column, Entity};
    use sea_orm::sea_query::OnConflict;
    Entity::insert(ActiveModel {
        key: Set(row.key),
        failures: Set(row.failures),
        last_failure_at: Set(row.last_failure_at),
        locked_until: Set(row.locked_until),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            .update_columns([Column::Failures, Column::LastFailureAt, Column::LockedUntil])
            .to_owned(),
    )
    .exec(conn)
    .await
    .map(|_| ())
}

pub async fn clear_login_failures<C: ConnectionTrait>(conn: &C, key: &str) -> Result<(), DbErr> {
    use crate::entity::login_failure::{Column, Entity};
    Entity::delete_many().filter(Column::Key.eq(key)).exec(conn).await.map(|_| ())
}

/// A user's sessions, newest first.
pub async fn sessions_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Vec<session::Model>, DbErr> {
    session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .order_by_desc(session::Column::CreatedAt)
        .all(conn)
        .await
}

/// Deletes one session if it belongs to `user_id`; returns how many went (0 or 1).
pub async fn delete_session_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    id: Uuid,
) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes all of a user's sessions but `keep`.
pub async fn delete_other_sessions<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    keep: Uuid,
) -> Result<u64, DbErr> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::Id.ne(keep))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Marks a session's second factor as given.
pub async fn complete_second_factor<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<(), DbErr> {
    session::Entity::update_many()
        .col_expr(session::Column::SecondFactorPending, Expr::value(false))
        .filter(session::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

/// Sets (or, with `None`, removes) a user's TOTP secret; removing also forgets the codes.
pub async fn set_totp<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    secret: Option<&str>,
    last_step: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(secret.map(str::to_owned)))
        .col_expr(user::Column::TotpEnabledAt, Expr::value(secret.map(|_| now)))
        .col_expr(user::Column::TotpLastStep, Expr::value(last_step))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    if secret.is_none() {
        replace_recovery_codes(conn, user_id, &[]).await?;
    }
    Ok(())
}

/// Records that the code of `step` was used, if no code of that step or a later one was:
/// one conditional UPDATE, so two instances cannot both accept the same code.
pub async fn claim_totp_step<C: ConnectionTrait>(conn: &C, user_id: Uuid, step: i64) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(step))
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::TotpLastStep.is_null().or(user::Column::TotpLastStep.lt(step)))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn set_two_factor_required<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    required: bool,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::TwoFactorRequired, Expr::value(required))
        .col_expr(user::Column::UpdatedAt, Expr::value(now))
        .filter(user::Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(res.rows_affected > 0)
}

pub async fn replace_recovery_codes<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    hashes: &[String],
) -> Result<(), DbErr> {
    use crate::entity::recovery_code::{ActiveModel, Column, Entity};
    Entity::delete_many().filter(Column::UserId.eq(user_id)).exec(conn).await?;
    if hashes.is_empty() {
        return Ok(());
    }
    Entity::insert_many(hashes.iter().map(|h| ActiveModel {
        user_id: Set(user_id),
        code_hash: Set(h.clone()),
        used_at: Set(None),
    }))
    .exec(conn)
    .await
    .map(|_| ())
}

/// Marks an unused recovery code used; false if there is no such unused code.
pub async fn use_recovery_code<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use crate::entity::recovery_code::{Column, Entity};
    let res = Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::CodeHash.eq(hash))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn unused_recovery_codes<C: ConnectionTrait>(conn: &C, user_id: Uuid) -> Result<u64, DbErr> {
    use crate::entity::recovery_code::{Column, Entity};
    Entity::find().filter(Column::UserId.eq(user_id)).filter(Column::UsedAt.is_null()).count(conn).await
}

pub async fn insert_api_token<C: ConnectionTrait>(conn: &C, row: api_token::Model) -> Result<(), DbErr> {
    api_token::ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        name: Set(row.name),
        token_hash: Set(row.token_hash),
        scopes: Set(row.scopes),
        created_at: Set(row.created_at),
        expires_at: Set(row.expires_at),
        last_used_at: Set(row.last_used_at),
        revoked_at: Set(row.revoked_at),
        client_id: Set(row.client_id),
        patient_id: Set(row.patient_id),
    }
    .insert(conn)
    .await
    .map(|_| ())
}

pub async fn find_api_token<C: ConnectionTrait>(
    conn: &C,
    token_hash: &str,
) -> Result<Option<api_token::Model>, DbErr> {
    api_token::Entity::find().filter(api_token::Column::TokenHash.eq(token_hash)).one(conn).await
}

/// A user's tokens, newest first (revoked and expired ones included, for the record).
pub async fn api_tokens_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Vec<api_token::Model>, DbErr> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .all(conn)
        .await
}

/// Revokes one live token of `user_id`; false if there is none such.
pub async fn revoke_api_token<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Revokes every live token of a user; returns how many.
pub async fn revoke_api_tokens_of_user<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    Ok(api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn touch_api_token<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    api_token::Entity::update_many()
        .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
        .filter(api_token::Column::Id.eq(id))
        .exec(conn)
        .await
        .map(|_| ())
}

/// The active accounts holding `role`, with the names they are shown by, by name.
pub async fn holders_of<C: ConnectionTrait>(conn: &C, role: &str) -> Result<Vec<(Uuid, String)>, DbErr> {
    let holders = sea_orm::sea_query::Query::select()
        .column(user_role::Column::UserId)
        .from(user_role::Entity)
        .and_where(user_role::Column::Role.eq(role))
        .to_owned();
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::DisplayName)
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.in_subquery(holders))
        .order_by_asc(user::Column::DisplayName)
        .into_tuple()
        .all(conn)
        .await
}

/// Which of `ids` are active accounts holding `role`.
pub async fn active_with_role<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
    role: &str,
) -> Result<Vec<Uuid>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let holders = sea_orm::sea_query::Query::select()
        .column(user_role::Column::UserId)
        .from(user_role::Entity)
        .and_where(user_role::Column::Role.eq(role))
        .to_owned();
    user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(ids.iter().copied()))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.in_subquery(holders))
        .into_tuple()
        .all(conn)
        .await
}

/// Locks a user's row until the transaction ends (PostgreSQL), so checks about that user
/// and the write they allow happen as one; SQLite's write transaction already excludes.
pub async fn lock_user<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<(), DbErr> {
    let query = user::Entity::find_by_id(id).select_only().column(user::Column::Id);
    if let Some(locked) = crate::dialect::lock_rows(query, crate::dialect::of(conn)) {
        locked.into_tuple::<Uuid>().one(conn).await?;
    }
    Ok(())
}
