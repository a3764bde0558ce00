//! Queries of the organisation: facilities, departments, specialisations, staff profiles
//! and the service and price list. An edit is an `UPDATE … WHERE id = ? AND version = ?`;
//! zero rows changed means someone else saved first (or the row is gone), and the caller
//! says which.

use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, TryInsertResult,
};
use uuid::Uuid;

use crate::entity::{
    department, facility, identifier_type, service, specialisation, staff_profile, user, user_role,
};
use crate::identity::{UserRow, with_roles};

pub async fn facilities<C: ConnectionTrait>(conn: &C) -> Result<Vec<facility::Model>, DbErr> {
    facility::Entity::find().order_by_asc(facility::Column::Name).all(conn).await
}

pub async fn find_facility<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<facility::Model>, DbErr> {
    facility::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_facility<C: ConnectionTrait>(conn: &C, row: facility::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

versioned_update!(
    /// Saves `row` if the stored version is `row.version - 1`; false if it is not.
    update_facility,
    facility
);

/// Departments, of one facility or all, by facility then name.
pub async fn departments<C: ConnectionTrait>(
    conn: &C,
    facility_id: Option<Uuid>,
) -> Result<Vec<department::Model>, DbErr> {
    let mut q = department::Entity::find()
        .order_by_asc(department::Column::FacilityId)
        .order_by_asc(department::Column::Name);
    if let Some(f) = facility_id {
        q = q.filter(department::Column::FacilityId.eq(f));
    }
    q.all(conn).await
}

pub async fn find_department<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<department::Model>, DbErr> {
    department::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_department<C: ConnectionTrait>(conn: &C, row: department::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

versioned_update!(update_department, department);

pub async fn specialisations<C: ConnectionTrait>(conn: &C) -> Result<Vec<specialisation::Model>, DbErr> {
    specialisation::Entity::find().order_by_asc(specialisation::Column::Name).all(conn).await
}

pub async fn find_specialisation<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<specialisation::Model>, DbErr> {
    specialisation::Entity::find_by_id(id).one(conn).await
}

pub async fn insert_specialisation<C: ConnectionTrait>(
    conn: &C,
    row: specialisation::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

versioned_update!(update_specialisation, specialisation);

/// Which staff to list.
#[derive(Debug, Clone, Default)]
pub struct StaffFilter {
    /// Only holders of this role.
    pub role: Option<String>,
    pub department_id: Option<Uuid>,
    pub specialisation_id: Option<Uuid>,
    /// Include disabled accounts.
    pub include_inactive: bool,
}

/// Accounts holding a staff role (any but "patient"), in id order after `after`, with
/// their roles and profiles.
pub async fn staff<C: ConnectionTrait>(
    conn: &C,
    filter: &StaffFilter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(UserRow, Option<staff_profile::Model>)>, DbErr> {
    let mut roles = Query::select();
    roles.column(user_role::Column::UserId).from(user_role::Entity);
    match &filter.role {
        Some(role) => roles.and_where(user_role::Column::Role.eq(role.as_str())),
        None => roles.and_where(user_role::Column::Role.ne("patient")),
    };
    let mut q = user::Entity::find()
        .filter(user::Column::Id.in_subquery(roles.to_owned()))
        .order_by_asc(user::Column::Id)
        .limit(limit);
    if !filter.include_inactive {
        q = q.filter(user::Column::Active.eq(true));
    }
    if filter.department_id.is_some() || filter.specialisation_id.is_some() {
        let mut profiles = Query::select();
        profiles.column(staff_profile::Column::UserId).from(staff_profile::Entity);
        if let Some(d) = filter.department_id {
            profiles.and_where(staff_profile::Column::DepartmentId.eq(d));
        }
        if let Some(s) = filter.specialisation_id {
            profiles.and_where(staff_profile::Column::SpecialisationId.eq(s));
        }
        q = q.filter(user::Column::Id.in_subquery(profiles.to_owned()));
    }
    if let Some(after) = after {
        q = q.filter(user::Column::Id.gt(after));
    }
    let users = with_roles(conn, q.all(conn).await?).await?;
    let ids: Vec<Uuid> = users.iter().map(|u| u.user.id).collect();
    let profiles = if ids.is_empty() {
        Vec::new()
    } else {
        staff_profile::Entity::find().filter(staff_profile::Column::UserId.is_in(ids)).all(conn).await?
    };
    Ok(users
        .into_iter()
        .map(|u| {
            let p = profiles.iter().find(|p| p.user_id == u.user.id).cloned();
            (u, p)
        })
        .collect())
}

pub async fn find_staff_profile<C: ConnectionTrait>(
    conn: &C,
    user_id: Uuid,
) -> Result<Option<staff_profile::Model>, DbErr> {
    staff_profile::Entity::find_by_id(user_id).one(conn).await
}

/// Writes a profile: the first one (version 1) is inserted, a later one replaces
/// version - 1 (false when someone else saved first).
pub async fn put_staff_profile<C: ConnectionTrait>(
    conn: &C,
    row: staff_profile::Model,
) -> Result<bool, DbErr> {
    if row.version == 1 {
        // The caller saw no profile; if one appeared meanwhile, this one is stale. Only a
        // clash on the user is ignored: a taken registration still fails loudly.
        let inserted = staff_profile::Entity::insert(row.into_active_model())
            .on_conflict_do_nothing_on([staff_profile::Column::UserId])
            .exec_without_returning(conn)
            .await?;
        return Ok(matches!(inserted, TryInsertResult::Inserted(1)));
    }
    let (id, previous) = (row.user_id, row.version - 1);
    let res = staff_profile::Entity::update_many()
        .set(row.into_active_model().reset_all())
        .filter(staff_profile::Column::UserId.eq(id))
        .filter(staff_profile::Column::Version.eq(previous))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Which services to list.
#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    /// Code or name containing this (case-insensitive).
    pub text: Option<String>,
    pub category: Option<String>,
    pub department_id: Option<Uuid>,
    pub include_inactive: bool,
}

/// The price list in code order after `after`.
pub async fn services<C: ConnectionTrait>(
    conn: &C,
    filter: &ServiceFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<service::Model>, DbErr> {
    let mut q = service::Entity::find().order_by_asc(service::Column::Code).limit(limit);
    if let Some(text) = filter.text.as_deref().filter(|t| !t.is_empty()) {
        // LIKE is case-insensitive for ASCII on SQLite; lower() on both sides makes
        // PostgreSQL agree.
        let pattern = format!("%{}%", text.to_lowercase().replace(['%', '_'], ""));
        q = q.filter(
            Expr::expr(Func::lower(Expr::col(service::Column::Code)))
                .like(pattern.clone())
                .or(Expr::expr(Func::lower(Expr::col(service::Column::Name))).like(pattern)),
        );
    }
    if let Some(c) = &filter.category {
        q = q.filter(service::Column::Category.eq(c.as_str()));
    }
    if let Some(d) = filter.department_id {
        q = q.filter(service::Column::DepartmentId.eq(d));
    }
    if !filter.include_inactive {
        q = q.filter(service::Column::Active.eq(true));
    }
    if let Some(after) = after {
        q = q.filter(service::Column::Code.gt(after));
    }
    q.all(conn).await
}

pub async fn find_service<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find_by_id(id).one(conn).await
}

/// The consultation a department charges: its first active consultation service by
/// code (a department's plain consultation sorts before its follow-up variant).
pub async fn consultation_service<C: ConnectionTrait>(
    conn: &C,
    department: Uuid,
) -> Result<Option<service::Model>, DbErr> {
    service::Entity::find()
        .filter(service::Column::DepartmentId.eq(department))
        .filter(service::Column::Category.eq("consultation"))
        .filter(service::Column::Active.eq(true))
        .order_by_asc(service::Column::Code)
        .one(conn)
        .await
}

/// The services with these ids (one statement, whatever their number).
pub async fn find_services<C: ConnectionTrait>(conn: &C, ids: &[Uuid]) -> Result<Vec<service::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    service::Entity::find().filter(service::Column::Id.is_in(ids.iter().copied())).all(conn).await
}

pub async fn insert_service<C: ConnectionTrait>(conn: &C, row: service::Model) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

versioned_update!(update_service, service);

pub async fn insert_identifier_type<C: ConnectionTrait>(
    conn: &C,
    row: identifier_type::Model,
) -> Result<(), DbErr> {
    row.into_active_model().insert(conn).await.map(|_| ())
}

/// Renames or retires a type (its code and uniqueness never change); false if there is none.
pub async fn update_identifier_type<C: ConnectionTrait>(
    conn: &C,
    code: &str,
    name: &str,
    active: bool,
) -> Result<bool, DbErr> {
    let res = identifier_type::Entity::update_many()
        .col_expr(identifier_type::Column::Name, Expr::value(name))
        .col_expr(identifier_type::Column::Active, Expr::value(active))
        .filter(identifier_type::Column::Code.eq(code))
        .exec(conn)
        .await?;
    Ok(res.rows_affected == 1)
}
