//! The kinds of identifier a patient may carry (national ID, passport, insurance member
//! number…). Each says once, when it is created, whether its values are unique: the unique
//! key of every stored identifier is computed from it, so turning it on later would leave
//! older duplicates unchecked. A type is renamed or retired instead (a retired type stays
//! on the records that have it and is not offered for new ones).

use salus_core::FieldError;
use salus_core::organisation::parse_label;
use salus_db::ResultExt;
use salus_db::entity::identifier_type;
use salus_db::organisation as q;
use serde_json::json;

use super::Checker;
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::{AppError, Ctx};

pub type IdentifierType = identifier_type::Model;

/// "national_id": 2–32 of `a-z 0-9 _`, starting with a letter (it is the FHIR system's tail).
fn parse_type_code(text: &str) -> Result<String, FieldError> {
    let code = text.trim().to_lowercase();
    let ok = (2..=32).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(code)
    } else {
        Err(FieldError::new("code", "use 2–32 of a-z, 0-9 and _, starting with a letter"))
    }
}

impl crate::Organisation<'_> {
    #[tracing::instrument(skip_all)]
    pub async fn create_identifier_type(
        &self,
        ctx: &Ctx,
        code: &str,
        name: &str,
        is_unique: bool,
    ) -> Result<IdentifierType, AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let mut c = Checker::default();
        let code = c.take(parse_type_code(code));
        let name = c.take(parse_label(name, "name", 100));
        let (code, name) = c.finish(code.zip(name))?;
        let row = identifier_type::Model { code, name, is_unique, active: true };
        let txn = self.db.begin_write().await?;
        q::insert_identifier_type(&txn, row.clone()).await.on_unique(
            "identifier_types_pkey",
            "identifier_types.code",
            || AppError::field("code", "is already used"),
        )?;
        let event = Event::new("identifier_type.create", "identifier_type", Some(row.code.clone()))
            .detail(json!({ "name": row.name, "is_unique": row.is_unique }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(row)
    }

    #[tracing::instrument(skip_all)]
    pub async fn update_identifier_type(
        &self,
        ctx: &Ctx,
        code: &str,
        name: &str,
        active: bool,
    ) -> Result<(), AppError> {
        self.authorize(ctx, Permission::OrganisationManage).await?;
        let name = parse_label(name, "name", 100)?;
        let txn = self.db.begin_write().await?;
        if !q::update_identifier_type(&txn, code, &name, active).await? {
            return Err(AppError::NotFound("identifier type"));
        }
        let event = Event::new("identifier_type.update", "identifier_type", Some(code.to_owned()))
            .detail(json!({ "name": name, "active": active }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_type_code;

    #[test]
    fn type_codes_are_plain() {
        assert_eq!(parse_type_code(" Voter_ID ").unwrap(), "voter_id");
        assert!(parse_type_code("1abc").is_err());
        assert!(parse_type_code("a-b").is_err());
        assert!(parse_type_code("x").is_err());
    }
}
