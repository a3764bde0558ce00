//! The organisation: facilities, their departments and the specialisations staff hold;
//! staff profiles (`staff`) and the service and price list (`services`). Everyone on the
//! staff reads them (reception picks a doctor, billing a service); administrators change
//! them. Every change is audited with its before and after, and saved only against the
//! version the editor saw.

pub mod identifier_types;
pub mod services;
pub mod staff;

use chrono::Utc;
use salus_core::organisation::{parse_label, parse_optional_label};
use salus_core::{Code, DepartmentId, FacilityId, FieldError, SpecialisationId};
use salus_db::ResultExt;
use salus_db::entity::{department, facility, specialisation};
use salus_db::organisation as q;
use serde::Serialize;
use serde_json::json;

pub use identifier_types::IdentifierType;
pub use services::{Amount, Percent, Service, ServiceInput, ServiceQuery};
pub use staff::{StaffMember, StaffProfile, StaffProfileInput, StaffQuery};

use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// A hospital, clinic or other site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facility {
    pub id: FacilityId,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub active: bool,
    pub version: i32,
}

impl From<facility::Model> for Facility {
    fn from(r: facility::Model) -> Self {
        Self {
            id: r.id.into(),
            code: r.code,
            name: r.name,
            address: r.address,
            phone: r.phone,
            active: r.active,
            version: r.version,
        }
    }
}

/// A facility as typed.
#[derive(Debug, Clone, Default)]
pub struct FacilityInput {
    pub code: String,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub active: bool,
}

/// A department of a facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    pub id: DepartmentId,
    pub facility_id: FacilityId,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub version: i32,
}

impl From<department::Model> for Department {
    fn from(r: department::Model) -> Self {
        Self {
            id: r.id.into(),
            facility_id: r.facility_id.into(),
            code: r.code,
            name: r.name,
            active: r.active,
            version: r.version,
        }
    }
}

/// A department as typed.
#[derive(Debug, Clone)]
pub struct DepartmentInput {
    pub facility_id: FacilityId,
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// A medical specialisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Specialisation {
    pub id: SpecialisationId,
    pub code: String,
    pub name: String,
    pub active: bool,
    pub version: i32,
}

impl From<specialisation::Model> for Specialisation {
    fn from(r: specialisation::Model) -> Self {
        Self { id: r.id.into(), code: r.code, name: r.name, active: r.active, version: r.version }
    }
}

/// A specialisation as typed.
#[derive(Debug, Clone, Default)]
pub struct SpecialisationInput {
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// Collects field errors so a form shows every one at once.
#[derive(Default)]
pub(crate) struct Checker(Vec<FieldError>);

impl Checker {
    pub fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    /// `Ok(value)` when no error was collected.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, AppError> {
        match value {
            Some(v) if self.0.is_empty() => Ok(v),
            _ => Err(AppError::Invalid(self.0)),
        }
    }
}

/// The message of an edit that lost a race.
/// An edit began from an older version of `what` (and the save lost a race, so the
/// version now is not at hand).
pub(crate) fn stale(what: &'static str) -> AppError {
    AppError::Stale { what, version: None, current: None }
}

/// An edit began from an older version of `what`, which is at `version` now.
pub(crate) fn stale_version(what: &'static str, version: i32) -> AppError {
    AppError::Stale { what, version: Some(version), current: None }
}

/// An edit began from an older version of `what`; `current` is the record as stored now.
pub(crate) fn stale_as<T: serde::Serialize>(what: &'static str, version: i32, current: &T) -> AppError {
    AppError::Stale {
        what,
        version: Some(version),
        current: serde_json::to_value(current).ok().map(Box::new),
    }
}

fn check_unit(code: &str, name: &str, c: &mut Checker) -> Option<(Code, String)> {
    let code = c.take(Code::parse(code, "code"));
    let name = c.take(parse_label(name, "name", 200));
    code.zip(name)
}

const CODE_TAKEN: &str = "is already used";

impl crate::Organisation<'_> {
    pub async fn facilities(&self, ctx: &Ctx) -> Result<Vec<Facility>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(q::facilities(self.db.reader()).await?.into_iter().map(Facility::from).collect())
    }

    pub async fn facility(&self, ctx: &Ctx, id: FacilityId) -> Result<Facility, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        q::find_facility(self.db.reader(), id.as_uuid())
            .await?
            .map(Facility::from)
            .ok_or(AppError::NotFound("facility"))
    }

    fn facility_row(input: &FacilityInput) -> Result<facility::Model, AppError> {
        let mut c = Checker::default();
        let unit = check_unit(&input.code, &input.name, &mut c);
        let address = c.take(parse_optional_label(&input.address, "address", 500));
        let phone = c.take(parse_optional_label(&input.phone, "phone", 32));
        let (code, name) = c.finish(unit)?;
        let now = Utc::now();
        Ok(facility::Model {
            id: FacilityId::new().as_uuid(),
            code: code.as_str().to_owned(),
            name,
            address: address.flatten(),
            phone: phone.flatten(),
            active: input.active,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_facility(&self, ctx: &Ctx, input: FacilityInput) -> Result<Facility, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let row = Self::facility_row(&input)?;
        let txn = self.db.begin_write().await?;
        q::insert_facility(&txn, row.clone()).await.on_unique(
            "facilities_code_key",
            "facilities.code",
            || AppError::field("code", CODE_TAKEN),
        )?;
        let created = Facility::from(row);
        let event =
            Event::new("facility.create", "facility", Some(created.id.to_string())).detail(json!(created));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(created)
    }

    #[tracing::instrument(skip_all, fields(facility_id = %id))]
    pub async fn update_facility(
        &self,
        ctx: &Ctx,
        id: FacilityId,
        version: i32,
        input: FacilityInput,
    ) -> Result<Facility, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let mut row = Self::facility_row(&input)?;
        let txn = self.db.begin_write().await?;
        let before = q::find_facility(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("facility"))?;
        (row.id, row.created_at, row.version) = (before.id, before.created_at, version + 1);
        let saved = q::update_facility(&txn, row.clone()).await.on_unique(
            "facilities_code_key",
            "facilities.code",
            || AppError::field("code", CODE_TAKEN),
        )?;
        if !saved {
            return Err(stale("facility"));
        }
        let (before, after) = (Facility::from(before), Facility::from(row));
        let event = Event::new("facility.update", "facility", Some(id.to_string()))
            .detail(json!({ "from": before, "to": after }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(after)
    }

    /// Departments of one facility, or of all.
    pub async fn departments(
        &self,
        ctx: &Ctx,
        facility: Option<FacilityId>,
    ) -> Result<Vec<Department>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        let rows = q::departments(self.db.reader(), facility.map(|f| f.as_uuid())).await?;
        Ok(rows.into_iter().map(Department::from).collect())
    }

    pub async fn department(&self, ctx: &Ctx, id: DepartmentId) -> Result<Department, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        q::find_department(self.db.reader(), id.as_uuid())
            .await?
            .map(Department::from)
            .ok_or(AppError::NotFound("department"))
    }

    /// Checks a department; the facility must exist and, for a new or moved department,
    /// be in use.
    async fn department_row<C: salus_db::ConnectionTrait>(
        conn: &C,
        input: &DepartmentInput,
        current_facility: Option<FacilityId>,
    ) -> Result<department::Model, AppError> {
        let mut c = Checker::default();
        let unit = check_unit(&input.code, &input.name, &mut c);
        match q::find_facility(conn, input.facility_id.as_uuid()).await? {
            None => c.push(FieldError::new("facility_id", "there is no such facility")),
            Some(f) if !f.active && current_facility != Some(input.facility_id) => {
                c.push(FieldError::new("facility_id", "this facility is no longer in use"));
            }
            Some(_) => {}
        }
        let (code, name) = c.finish(unit)?;
        let now = Utc::now();
        Ok(department::Model {
            id: DepartmentId::new().as_uuid(),
            facility_id: input.facility_id.as_uuid(),
            code: code.as_str().to_owned(),
            name,
            active: input.active,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_department(&self, ctx: &Ctx, input: DepartmentInput) -> Result<Department, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let row = Self::department_row(&txn, &input, None).await?;
        q::insert_department(&txn, row.clone()).await.on_unique(
            "departments_facility_code_key",
            "departments.facility_id, departments.code",
            || AppError::field("code", "is already used in this facility"),
        )?;
        let created = Department::from(row);
        let event = Event::new("department.create", "department", Some(created.id.to_string()))
            .detail(json!(created));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(created)
    }

    #[tracing::instrument(skip_all, fields(department_id = %id))]
    pub async fn update_department(
        &self,
        ctx: &Ctx,
        id: DepartmentId,
        version: i32,
        input: DepartmentInput,
    ) -> Result<Department, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let before = q::find_department(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("department"))?;
        let mut row = Self::department_row(&txn, &input, Some(before.facility_id.into())).await?;
        (row.id, row.created_at, row.version) = (before.id, before.created_at, version + 1);
        let saved = q::update_department(&txn, row.clone()).await.on_unique(
            "departments_facility_code_key",
            "departments.facility_id, departments.code",
            || AppError::field("code", "is already used in this facility"),
        )?;
        if !saved {
            return Err(stale("department"));
        }
        let (before, after) = (Department::from(before), Department::from(row));
        let event = Event::new("department.update", "department", Some(id.to_string()))
            .detail(json!({ "from": before, "to": after }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(after)
    }

    pub async fn specialisations(&self, ctx: &Ctx) -> Result<Vec<Specialisation>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        Ok(q::specialisations(self.db.reader()).await?.into_iter().map(Specialisation::from).collect())
    }

    pub async fn specialisation(&self, ctx: &Ctx, id: SpecialisationId) -> Result<Specialisation, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        q::find_specialisation(self.db.reader(), id.as_uuid())
            .await?
            .map(Specialisation::from)
            .ok_or(AppError::NotFound("specialisation"))
    }

    fn specialisation_row(input: &SpecialisationInput) -> Result<specialisation::Model, AppError> {
        let mut c = Checker::default();
        let unit = check_unit(&input.code, &input.name, &mut c);
        let (code, name) = c.finish(unit)?;
        let now = Utc::now();
        Ok(specialisation::Model {
            id: SpecialisationId::new().as_uuid(),
            code: code.as_str().to_owned(),
            name,
            active: input.active,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_specialisation(
        &self,
        ctx: &Ctx,
        input: SpecialisationInput,
    ) -> Result<Specialisation, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let row = Self::specialisation_row(&input)?;
        let txn = self.db.begin_write().await?;
        q::insert_specialisation(&txn, row.clone()).await.on_unique(
            "specialisations_code_key",
            "specialisations.code",
            || AppError::field("code", CODE_TAKEN),
        )?;
        let created = Specialisation::from(row);
        let event = Event::new("specialisation.create", "specialisation", Some(created.id.to_string()))
            .detail(json!(created));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(created)
    }

    #[tracing::instrument(skip_all, fields(specialisation_id = %id))]
    pub async fn update_specialisation(
        &self,
        ctx: &Ctx,
        id: SpecialisationId,
        version: i32,
        input: SpecialisationInput,
    ) -> Result<Specialisation, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let mut row = Self::specialisation_row(&input)?;
        let txn = self.db.begin_write().await?;
        let before =
            q::find_specialisation(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("specialisation"))?;
        (row.id, row.created_at, row.version) = (before.id, before.created_at, version + 1);
        let saved = q::update_specialisation(&txn, row.clone()).await.on_unique(
            "specialisations_code_key",
            "specialisations.code",
            || AppError::field("code", CODE_TAKEN),
        )?;
        if !saved {
            return Err(stale("specialisation"));
        }
        let (before, after) = (Specialisation::from(before), Specialisation::from(row));
        let event = Event::new("specialisation.update", "specialisation", Some(id.to_string()))
            .detail(json!({ "from": before, "to": after }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(after)
    }
}
