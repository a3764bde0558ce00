//! The service and price list: what the hospital charges for (consultations, procedures,
//! tests, bed days…), at what price in minor units of the configured currency, with which
//! tax rate. Billing copies price and rate onto each charge, so changing the list never
//! changes a bill already made; each change is audited with old and new values.

use chrono::Utc;
use salus_core::organisation::parse_label;
use salus_core::page::{Page, PageRequest};
use salus_core::{Code, Currency, DepartmentId, FieldError, Money, ServiceCategory, ServiceId, TaxRate};
use salus_db::ResultExt;
use salus_db::entity::service;
use salus_db::organisation::{self as q, ServiceFilter};
use serde::Serialize;
use serde_json::json;

use super::{Checker, stale};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

/// An amount as it arrives: minor units from the API, typed text from a form.
#[derive(Debug, Clone)]
pub enum Amount {
    Minor(i64),
    Typed(String),
}

impl Amount {
    pub(crate) fn to_price(&self, currency: Currency, field: &'static str) -> Result<Money, FieldError> {
        match self {
            Amount::Minor(m) if *m < 0 => Err(FieldError::new(field, "a price cannot be negative")),
            Amount::Minor(m) if *m > 1_000_000_000_000_000 => {
                Err(FieldError::new(field, "the amount is too large"))
            }
            Amount::Minor(m) => Ok(Money::from_minor(*m)),
            Amount::Typed(t) => Money::parse_price(t, currency, field),
        }
    }
}

/// A tax rate as it arrives: basis points from the API, a typed percentage from a form.
#[derive(Debug, Clone)]
pub enum Percent {
    BasisPoints(u32),
    Typed(String),
}

impl Percent {
    fn to_rate(&self, field: &'static str) -> Result<TaxRate, FieldError> {
        match self {
            Percent::BasisPoints(bp) => TaxRate::from_basis_points(*bp, field),
            Percent::Typed(t) => TaxRate::parse_percent(t, field),
        }
    }
}

/// An entry of the price list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub id: ServiceId,
    pub code: String,
    pub name: String,
    pub category: ServiceCategory,
    pub department_id: Option<DepartmentId>,
    pub price: Money,
    pub tax_rate: TaxRate,
    pub active: bool,
    pub version: i32,
}

impl TryFrom<service::Model> for Service {
    type Error = AppError;

    fn try_from(r: service::Model) -> Result<Self, AppError> {
        let bad = |what: &str| AppError::Internal(format!("service {} has a bad {what}", r.id));
        Ok(Self {
            id: r.id.into(),
            category: ServiceCategory::parse(&r.category, "category").map_err(|_| bad("category"))?,
            tax_rate: u32::try_from(r.tax_rate_bp)
                .ok()
                .and_then(|bp| TaxRate::from_basis_points(bp, "tax_rate").ok())
                .ok_or_else(|| bad("tax rate"))?,
            code: r.code,
            name: r.name,
            department_id: r.department_id.map(Into::into),
            price: Money::from_minor(r.price_minor),
            active: r.active,
            version: r.version,
        })
    }
}

/// A service as typed.
#[derive(Debug, Clone)]
pub struct ServiceInput {
    pub code: String,
    pub name: String,
    pub category: String,
    pub department_id: Option<DepartmentId>,
    pub price: Amount,
    pub tax_rate: Percent,
    pub active: bool,
}

/// Which services to list.
#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    /// Part of the code or name.
    pub text: Option<String>,
    pub category: Option<ServiceCategory>,
    pub department_id: Option<DepartmentId>,
    pub include_inactive: bool,
}

impl crate::Organisation<'_> {
    /// The price list in code order, paged by code.
    pub async fn services(
        &self,
        ctx: &Ctx,
        query: &ServiceQuery,
        page: PageRequest<String>,
    ) -> Result<Page<Service, String>, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        let filter = ServiceFilter {
            text: query.text.as_ref().map(|t| t.trim().to_owned()),
            category: query.category.map(|c| c.as_str().to_owned()),
            department_id: query.department_id.map(|d| d.as_uuid()),
            include_inactive: query.include_inactive,
        };
        let limit = u64::from(page.limit) + 1;
        let rows = q::services(self.db.reader(), &filter, page.after.as_deref(), limit).await?;
        let items = rows.into_iter().map(Service::try_from).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, page.limit, |s| s.code.clone()))
    }

    pub async fn service(&self, ctx: &Ctx, id: ServiceId) -> Result<Service, AppError> {
        self.authorize(ctx, Permission::OrganisationRead).await?;
        q::find_service(self.db.reader(), id.as_uuid())
            .await?
            .ok_or(AppError::NotFound("service"))?
            .try_into()
    }

    async fn service_row<C: salus_db::ConnectionTrait>(
        &self,
        conn: &C,
        input: &ServiceInput,
        current_department: Option<DepartmentId>,
    ) -> Result<service::Model, AppError> {
        let mut c = Checker::default();
        let code = c.take(Code::parse(&input.code, "code"));
        let name = c.take(parse_label(&input.name, "name", 200));
        let category = c.take(ServiceCategory::parse(&input.category, "category"));
        let price = c.take(input.price.to_price(self.currency, "price"));
        let rate = c.take(input.tax_rate.to_rate("tax_rate"));
        if let Some(d) = input.department_id {
            match q::find_department(conn, d.as_uuid()).await? {
                None => c.push(FieldError::new("department_id", "there is no such department")),
                Some(row) if !row.active && current_department != Some(d) => {
                    c.push(FieldError::new("department_id", "this department is no longer in use"));
                }
                Some(_) => {}
            }
        }
        let parsed = code.zip(name).zip(category).zip(price).zip(rate);
        let ((((code, name), category), price), rate) = c.finish(parsed)?;
        let now = Utc::now();
        Ok(service::Model {
            id: ServiceId::new().as_uuid(),
            code: code.as_str().to_owned(),
            name,
            category: category.as_str().to_owned(),
            department_id: input.department_id.map(|d| d.as_uuid()),
            price_minor: price.minor(),
            tax_rate_bp: i32::try_from(rate.basis_points()).unwrap_or(i32::MAX),
            active: input.active,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[tracing::instrument(skip_all)]
    pub async fn create_service(&self, ctx: &Ctx, input: ServiceInput) -> Result<Service, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let row = self.service_row(&txn, &input, None).await?;
        q::insert_service(&txn, row.clone())
            .await
            .on_unique("services_code_key", "services.code", || AppError::field("code", "is already used"))?;
        let created = Service::try_from(row)?;
        let event =
            Event::new("service.create", "service", Some(created.id.to_string())).detail(json!(created));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(created)
    }

    #[tracing::instrument(skip_all, fields(service_id = %id))]
    pub async fn update_service(
        &self,
        ctx: &Ctx,
        id: ServiceId,
        version: i32,
        input: ServiceInput,
    ) -> Result<Service, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let txn = self.db.begin_write().await?;
        let before = q::find_service(&txn, id.as_uuid()).await?.ok_or(AppError::NotFound("service"))?;
        let mut row = self.service_row(&txn, &input, before.department_id.map(Into::into)).await?;
        (row.id, row.created_at, row.version) = (before.id, before.created_at, version + 1);
        let saved = q::update_service(&txn, row.clone()).await.on_unique(
            "services_code_key",
            "services.code",
            || AppError::field("code", "is already used"),
        )?;
        if !saved {
            return Err(stale("service"));
        }
        let (before, after) = (Service::try_from(before)?, Service::try_from(row)?);
        let event = Event::new("service.update", "service", Some(id.to_string()))
            .detail(json!({ "from": before, "to": after }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(after)
    }
}
