//! Staff profiles: what the hospital records of a staff member beyond their account —
//! job title, qualifications, professional registration, specialisation, department and,
//! for doctors, the consultation fee billing charges. A doctor must have a registration
//! number (no hospital lets an unregistered doctor see patients), and one registration
//! belongs to one person.

use chrono::Utc;
use salus_core::organisation::parse_optional_label;
use salus_core::page::{Page, PageRequest};
use salus_core::{DepartmentId, FieldError, Money, Role, SpecialisationId, UserId};
use salus_db::ResultExt;
use salus_db::entity::staff_profile;
use salus_db::identity as users_q;
use salus_db::organisation::{self as q, StaffFilter};
use serde::Serialize;
use serde_json::json;

use super::{Checker, stale};
use crate::audit::{self, Event};
use crate::identity::{Permission, User};
use crate::{AppError, Ctx};

/// A staff member: the account and the profile (empty, version 0, until first saved).
#[derive(Debug, Clone, Serialize)]
pub struct StaffMember {
    pub user: User,
    pub profile: StaffProfile,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StaffProfile {
    pub job_title: Option<String>,
    pub qualifications: Option<String>,
    pub registration_council: Option<String>,
    pub registration_number: Option<String>,
    pub specialisation_id: Option<SpecialisationId>,
    pub department_id: Option<DepartmentId>,
    pub consultation_fee: Option<Money>,
    /// 0 while nothing has been saved.
    pub version: i32,
}

impl From<staff_profile::Model> for StaffProfile {
    fn from(r: staff_profile::Model) -> Self {
        Self {
            job_title: r.job_title,
            qualifications: r.qualifications,
            registration_council: r.registration_council,
            registration_number: r.registration_number,
            specialisation_id: r.specialisation_id.map(Into::into),
            department_id: r.department_id.map(Into::into),
            consultation_fee: r.consultation_fee_minor.map(Money::from_minor),
            version: r.version,
        }
    }
}

/// A profile as typed. The fee comes as minor units from the API or as typed text from a
/// form (checked against the currency here).
#[derive(Debug, Clone, Default)]
pub struct StaffProfileInput {
    pub job_title: String,
    pub qualifications: String,
    pub registration_council: String,
    pub registration_number: String,
    pub specialisation_id: Option<SpecialisationId>,
    pub department_id: Option<DepartmentId>,
    pub consultation_fee: Option<super::Amount>,
}

/// Which staff to list.
#[derive(Debug, Clone, Default)]
pub struct StaffQuery {
    pub role: Option<Role>,
    pub department_id: Option<DepartmentId>,
    pub specialisation_id: Option<SpecialisationId>,
    pub include_inactive: bool,
}

/// The registration folded for uniqueness: "MCI" + "ab-1234 " and "mci" + "AB 1234" are one.
fn registration_key(council: Option<&str>, number: &str) -> String {
    let fold =
        |s: &str| s.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect::<String>();
    format!("{}|{}", fold(council.unwrap_or_default()), fold(number))
}

impl crate::Organisation<'_> {
    /// Staff (accounts holding any role but patient), in account order, with profiles.
    pub async fn staff(
        &self,
        ctx: &Ctx,
        query: &StaffQuery,
        page: PageRequest<UserId>,
    ) -> Result<Page<StaffMember, UserId>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        let filter = StaffFilter {
            role: query.role.map(|r| r.as_str().to_owned()),
            department_id: query.department_id.map(|d| d.as_uuid()),
            specialisation_id: query.specialisation_id.map(|s| s.as_uuid()),
            include_inactive: query.include_inactive,
        };
        let rows =
            q::staff(self.db.reader(), &filter, page.after.map(|a| a.as_uuid()), u64::from(page.limit) + 1)
                .await?;
        let members = rows
            .into_iter()
            .map(|(u, p)| StaffMember {
                user: u.into(),
                profile: p.map(StaffProfile::from).unwrap_or_default(),
            })
            .collect();
        Ok(Page::from_overfetch(members, page.limit, |m| m.user.id))
    }

    /// One staff member. A patient's account is not staff: 404.
    pub async fn staff_member(&self, ctx: &Ctx, id: UserId) -> Result<StaffMember, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        let user = users_q::find_user(self.db.reader(), id.as_uuid()).await?.map(User::from);
        let user = user
            .filter(|u| u.roles.iter().any(|r| r.is_staff()))
            .ok_or(AppError::NotFound("staff member"))?;
        let profile = q::find_staff_profile(self.db.reader(), id.as_uuid()).await?;
        Ok(StaffMember { user, profile: profile.map(StaffProfile::from).unwrap_or_default() })
    }

    /// Saves a profile edited from `version` (0 for the first save).
    #[tracing::instrument(skip_all, fields(user_id = %id))]
    pub async fn save_staff_profile(
        &self,
        ctx: &Ctx,
        id: UserId,
        version: i32,
        input: StaffProfileInput,
    ) -> Result<StaffMember, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let user = users_q::find_user(&txn, id.as_uuid()).await?.map(User::from);
        let user = user
            .filter(|u| u.roles.iter().any(|r| r.is_staff()))
            .ok_or(AppError::NotFound("staff member"))?;
        let before = q::find_staff_profile(&txn, id.as_uuid()).await?;
        if before.as_ref().map_or(0, |b| b.version) != version {
            return Err(stale("profile"));
        }

        let mut c = Checker::default();
        let job_title = c.take(parse_optional_label(&input.job_title, "job_title", 100)).flatten();
        let qualifications =
            c.take(parse_optional_label(&input.qualifications, "qualifications", 300)).flatten();
        let council =
            c.take(parse_optional_label(&input.registration_council, "registration_council", 100)).flatten();
        let number =
            c.take(parse_optional_label(&input.registration_number, "registration_number", 40)).flatten();
        if number.is_none() && user.roles.contains(&Role::Doctor) {
            c.push(FieldError::new("registration_number", "a doctor needs a registration number"));
        }
        if council.is_some() && number.is_none() && !user.roles.contains(&Role::Doctor) {
            c.push(FieldError::new("registration_number", "give the number registered with this council"));
        }
        let fee = match &input.consultation_fee {
            None => None,
            Some(amount) => c.take(amount.to_price(self.currency, "consultation_fee")),
        };
        // A newly chosen department or specialisation must be in use; one already held
        // may stay after it is retired.
        if let Some(s) = input.specialisation_id {
            match q::find_specialisation(&txn, s.as_uuid()).await? {
                None => c.push(FieldError::new("specialisation_id", "there is no such specialisation")),
                Some(row)
                    if !row.active && before.as_ref().and_then(|b| b.specialisation_id) != Some(row.id) =>
                {
                    c.push(FieldError::new("specialisation_id", "this specialisation is no longer in use"));
                }
                Some(_) => {}
            }
        }
        if let Some(d) = input.department_id {
            match q::find_department(&txn, d.as_uuid()).await? {
                None => c.push(FieldError::new("department_id", "there is no such department")),
                Some(row) if !row.active && before.as_ref().and_then(|b| b.department_id) != Some(row.id) => {
                    c.push(FieldError::new("department_id", "this department is no longer in use"));
                }
                Some(_) => {}
            }
        }
        c.finish(Some(()))?;

        let row = staff_profile::Model {
            user_id: id.as_uuid(),
            registration_key: number.as_deref().map(|n| registration_key(council.as_deref(), n)),
            job_title,
            qualifications,
            registration_council: council,
            registration_number: number,
            specialisation_id: input.specialisation_id.map(|s| s.as_uuid()),
            department_id: input.department_id.map(|d| d.as_uuid()),
            consultation_fee_minor: fee.map(Money::minor),
            version: version + 1,
            updated_at: Utc::now(),
        };
        let saved = q::put_staff_profile(&txn, row.clone()).await.on_unique(
            "staff_profiles_registration_key_key",
            "staff_profiles.registration_key",
            || AppError::field("registration_number", "is already recorded for another staff member"),
        )?;
        if !saved {
            return Err(stale("profile"));
        }
        let (before, after) = (before.map(StaffProfile::from).unwrap_or_default(), StaffProfile::from(row));
        let event = Event::new("staff_profile.update", "user", Some(id.to_string()))
            .detail(json!({ "from": before, "to": after }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(StaffMember { user, profile: after })
    }
}

#[cfg(test)]
mod tests {
    use super::registration_key;

    #[test]
    fn registrations_fold_spacing_and_case() {
        assert_eq!(registration_key(Some("MCI"), "ab-1234 "), registration_key(Some("mci"), "AB 1234"));
        assert_ne!(registration_key(Some("MCI"), "1234"), registration_key(Some("KMC"), "1234"));
    }
}
