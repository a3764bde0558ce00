//! User accounts: create, list, change roles, disable, reset a password.

use chrono::{DateTime, Utc};
use salus_core::page::{Page, PageRequest};
use salus_core::{DisplayName, FieldError, Password, Role, UserId, Username};
use salus_db::ResultExt;
use salus_db::entity::user;
use salus_db::identity::{self as q, UserRow};
use serde::Serialize;

use super::{Permission, password};
use crate::AppError;
use crate::Ctx;
use crate::audit::{self, Event};
use serde_json::json;

/// A user as the rest of the program sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub two_factor_enabled: bool,
    /// Required of this user by an administrator (roles may require it too).
    pub two_factor_required: bool,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        Self {
            id: UserId::from_uuid(row.user.id),
            username: row.user.username,
            display_name: row.user.display_name,
            // A role name this binary does not know (written by a newer one) grants nothing.
            roles: row.roles.iter().filter_map(|r| r.parse().ok()).collect(),
            active: row.user.active,
            created_at: row.user.created_at,
            two_factor_enabled: row.user.totp_enabled_at.is_some(),
            two_factor_required: row.user.two_factor_required,
        }
    }
}

/// A new account as typed at a door; checked by [`App::create_user`].
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    /// `None`: generate one, returned once to show to the operator.
    pub password: Option<String>,
    pub roles: Vec<Role>,
}

struct CheckedUser {
    username: Username,
    display_name: DisplayName,
    password: Option<Password>,
    roles: Vec<Role>,
}

fn check(new: &NewUser) -> Result<CheckedUser, AppError> {
    let mut errors = Vec::new();
    let username = Username::parse(&new.username).map_err(|e| errors.push(e)).ok();
    let display_name = DisplayName::parse(&new.display_name).map_err(|e| errors.push(e)).ok();
    let password = match (&new.password, &username) {
        (Some(p), Some(u)) => Password::parse(p, u).map_err(|e| errors.push(e)).ok(),
        _ => None,
    };
    let roles = normalise_roles(&new.roles).map_err(|e| errors.push(e)).ok();
    match (username, display_name, roles) {
        (Some(username), Some(display_name), Some(roles)) if errors.is_empty() => {
            Ok(CheckedUser { username, display_name, password, roles })
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

fn normalise_roles(roles: &[Role]) -> Result<Vec<Role>, FieldError> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err(FieldError::new("roles", "choose at least one role"));
    }
    if roles.contains(&Role::Patient) && roles.len() > 1 {
        return Err(FieldError::new("roles", "a patient account cannot also hold a staff role"));
    }
    Ok(roles)
}

fn role_names(roles: &[Role]) -> Vec<String> {
    roles.iter().map(|r| r.as_str().to_owned()).collect()
}

impl crate::Identity<'_> {
    /// Creates an account. Returns the user and, when none was given, the generated
    /// password (shown once, never stored in clear).
    #[tracing::instrument(skip_all)]
    pub async fn create_user(&self, ctx: &Ctx, new: NewUser) -> Result<(User, Option<String>), AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let checked = check(&new)?;
        let generated = checked.password.is_none().then(password::generate);
        let clear = checked.password.as_ref().map(|p| p.expose().to_owned()).or_else(|| generated.clone());
        let hash = password::hash(clear.unwrap_or_default()).await?;
        let now = Utc::now();
        let row = user::Model {
            id: UserId::new().as_uuid(),
            username: checked.username.as_str().to_owned(),
            display_name: checked.display_name.as_str().to_owned(),
            password_hash: hash,
            active: true,
            must_change_password: false,
            totp_secret: None,
            totp_enabled_at: None,
            totp_last_step: None,
            two_factor_required: false,
            patient_id: None,
            created_at: now,
            updated_at: now,
        };
        let id = row.id;
        let txn = self.db.begin_write().await?;
        q::insert_user(&txn, row, &role_names(&checked.roles)).await.on_unique(
            "users_username_key",
            "users.username",
            || AppError::field("username", "is already taken"),
        )?;
        let created = q::find_user(&txn, id).await?.ok_or(AppError::NotFound("user"))?;
        let event = Event::new("user.create", "user", Some(id.to_string()))
            .detail(json!({ "username": created.user.username, "roles": created.roles }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok((created.into(), generated))
    }

    pub async fn list_users(
        &self,
        ctx: &Ctx,
        page: PageRequest<UserId>,
    ) -> Result<Page<User, UserId>, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let rows =
            q::list_users(self.db.reader(), page.after.map(|a| a.as_uuid()), u64::from(page.limit) + 1)
                .await?;
        Ok(Page::from_overfetch(rows.into_iter().map(User::from).collect(), page.limit, |u| u.id))
    }

    /// Which of `names` are taken.
    pub async fn existing_usernames(&self, ctx: &Ctx, names: &[&str]) -> Result<Vec<String>, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        Ok(q::usernames_present(self.db.reader(), names).await?)
    }

    pub async fn user(&self, ctx: &Ctx, id: UserId) -> Result<User, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        q::find_user(self.db.reader(), id.as_uuid()).await?.map(User::from).ok_or(AppError::NotFound("user"))
    }

    pub async fn find_user_by_username(&self, ctx: &Ctx, username: &str) -> Result<User, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let username = Username::parse(username)?;
        q::find_user_by_username(self.db.reader(), username.as_str())
            .await?
            .map(User::from)
            .ok_or(AppError::NotFound("user"))
    }

    /// Replaces a user's roles. Their sessions end, so the change takes effect at once.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_roles(&self, ctx: &Ctx, user_id: UserId, roles: &[Role]) -> Result<User, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let roles = normalise_roles(roles)?;
        let txn = self.db.begin_write().await?;
        let before = q::find_user(&txn, user_id.as_uuid()).await?.ok_or(AppError::NotFound("user"))?;
        if before.roles.iter().any(|r| r == Role::Admin.as_str()) && !roles.contains(&Role::Admin) {
            ensure_another_admin(&txn, user_id).await?;
        }
        q::replace_roles(&txn, user_id.as_uuid(), &role_names(&roles)).await?;
        q::delete_sessions_of_user(&txn, user_id.as_uuid()).await?;
        let after = q::find_user(&txn, user_id.as_uuid()).await?.ok_or(AppError::NotFound("user"))?;
        let event = Event::new("user.roles_change", "user", Some(user_id.to_string()))
            .detail(json!({ "from": before.roles, "to": after.roles }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(after.into())
    }

    /// Disables (or re-enables) an account; disabling ends its sessions.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn set_user_active(&self, ctx: &Ctx, user_id: UserId, active: bool) -> Result<(), AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let txn = self.db.begin_write().await?;
        let user = q::find_user(&txn, user_id.as_uuid()).await?.ok_or(AppError::NotFound("user"))?;
        if !active && user.roles.iter().any(|r| r == Role::Admin.as_str()) {
            ensure_another_admin(&txn, user_id).await?;
        }
        q::set_active(&txn, user_id.as_uuid(), active, Utc::now()).await?;
        if !active {
            q::delete_sessions_of_user(&txn, user_id.as_uuid()).await?;
        }
        let action = if active { "user.enable" } else { "user.disable" };
        audit::record(&txn, ctx, Event::new(action, "user", Some(user_id.to_string()))).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets a new random password, ends the user's sessions, and returns the password to
    /// hand over once. Whoever handed it over knows it, so the user must replace it at
    /// their next sign-in.
    #[tracing::instrument(skip_all, fields(user_id = %user_id))]
    pub async fn reset_password(&self, ctx: &Ctx, user_id: UserId) -> Result<String, AppError> {
        self.authorize(ctx, Permission::UsersManage).await?;
        let clear = password::generate();
        let hash = password::hash(clear.clone()).await?;
        let txn = self.db.begin_write().await?;
        if !q::set_password_hash(&txn, user_id.as_uuid(), &hash, true, Utc::now()).await? {
            return Err(AppError::NotFound("user"));
        }
        q::delete_sessions_of_user(&txn, user_id.as_uuid()).await?;
        // A reset usually means the account may be in someone else's hands: its tokens go too.
        let revoked = q::revoke_api_tokens_of_user(&txn, user_id.as_uuid(), Utc::now()).await?;
        let event = Event::new("user.password_reset", "user", Some(user_id.to_string()))
            .detail(json!({ "tokens_revoked": revoked }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(clear)
    }
}

/// Refuses to remove the last active administrator, which would lock everyone out of
/// user administration.
async fn ensure_another_admin(txn: &salus_db::DatabaseTransaction, except: UserId) -> Result<(), AppError> {
    if q::count_active_with_role_except(txn, Role::Admin.as_str(), except.as_uuid()).await? > 0 {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "this is the last active administrator; make another user an administrator first".into(),
        ))
    }
}
