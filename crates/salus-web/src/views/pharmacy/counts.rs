//! Stock-taking (count sheets and their posting) and setting up stores, suppliers and
//! reorder levels.

use super::*;

local!(CountsPage, CountPage);
shows_store!(CountsPage);

#[derive(Template)]
#[template(path = "pharmacy_counts.html")]
struct CountsPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    counts: Vec<salus_core::pharmacy::StockCount>,
}

/// A store's count sheets, and the button that starts one.
pub(super) async fn counts_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, store) = choose_store(&state, &ctx, &q.store).await?;
    let counts = match &store {
        Some(s) => pharmacy.counts(&ctx, s.id).await?,
        None => Vec::new(),
    };
    Ok(render(StatusCode::OK, &CountsPage { tz: state.app.time_zone, page, stores, store, counts }))
}

/// Starts a count of the chosen store.
pub(super) async fn open_count(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let store: Uuid = field(&f, "store_id").parse().map_err(|_| not_found("store"))?;
    match state.app.pharmacy().open_count(&ctx, store).await {
        Ok(sheet) => Ok(flash(
            &state,
            &format!("/pharmacy/counts/{}", sheet.count.id),
            &format!("Count sheet {} made: {} batch(es) to count.", sheet.count.number, sheet.lines.len()),
        )),
        Err(e) => Ok(flash(&state, &format!("/pharmacy/counts?store={store}"), &refusal(e)?)),
    }
}

#[derive(Template)]
#[template(path = "pharmacy_count.html")]
struct CountPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    sheet: salus_app::pharmacy::counts::CountSheet,
    key: String,
    errors: Vec<String>,
    typed: Vec<(String, String)>,
}

impl CountPage {
    fn typed(&self, name: &str, line: &Uuid) -> String {
        let k = format!("{name}:{line}");
        self.typed.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn open(&self) -> bool {
        self.sheet.count.status == salus_core::pharmacy::CountStatus::Open
    }
}

pub(super) async fn count_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("count sheet"))?;
    let sheet = state.app.pharmacy().count_sheet(&ctx, id).await?;
    Ok(render(
        StatusCode::OK,
        &CountPage {
            tz: state.app.time_zone,
            page,
            sheet,
            key: new_key(),
            errors: Vec::new(),
            typed: Vec::new(),
        },
    ))
}

/// Posts a count; a refusal comes back with the counts typed.
pub(super) async fn post_count(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("count sheet"))?;
    let lines: Vec<Uuid> =
        f.iter().filter(|(k, _)| k == "line").filter_map(|(_, v)| v.parse().ok()).collect();
    let counted = lines
        .iter()
        .filter_map(|l| {
            let raw = field(&f, &format!("counted:{l}"));
            (!raw.is_empty()).then(|| salus_app::pharmacy::counts::Counted {
                line_id: *l,
                counted: raw.parse().unwrap_or(-1),
                reason: field(&f, &format!("reason:{l}")),
            })
        })
        .collect();
    let key = field(&f, "idempotency_key");
    let errors = match state.app.pharmacy().post_count(&ctx, &key, id, counted).await {
        Ok(sheet) => {
            let text = format!("Count {} posted; its differences are in the ledger.", sheet.count.number);
            return Ok(flash(&state, &format!("/pharmacy/counts/{id}"), &text));
        }
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| e.message).collect(),
        Err(e @ AppError::OutOfStock { .. }) => vec![format!("Not posted: {e}.")],
        Err(e) => return Ok(flash(&state, &format!("/pharmacy/counts/{id}"), &refusal(e)?)),
    };
    let sheet = state.app.pharmacy().count_sheet(&ctx, id).await?;
    Ok(render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &CountPage { tz: state.app.time_zone, page, sheet, key, errors, typed: f },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_setup.html")]
struct SetupPage {
    page: PageCtx,
    stores: Vec<Store>,
    suppliers: Vec<salus_core::pharmacy::Supplier>,
    items: Vec<StockItem>,
    /// A refused form's messages by field, and what was typed.
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

impl SetupPage {
    fn kinds(&self) -> &'static [StoreKind] {
        StoreKind::ALL
    }
    fn typed(&self, name: &str) -> String {
        self.typed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn error_for(&self, name: &str) -> Option<String> {
        self.errors.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }
}

pub(super) async fn setup_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
) -> Result<Response, PageError> {
    render_setup(&state, &ctx, page, Vec::new(), Vec::new()).await
}

pub(super) async fn render_setup(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, suppliers, items) = (
        pharmacy.stores(ctx).await?,
        pharmacy.suppliers(ctx).await?,
        pharmacy.items(ctx, None, false).await?,
    );
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(status, &SetupPage { page, stores, suppliers, items, errors, typed }))
}

/// The setup forms: a store, a supplier, a reorder level. A refusal comes back beside
/// its field, with what was typed.
pub(super) async fn setup(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let outcome = match field(&f, "form").as_str() {
        "store" => pharmacy
            .create_store(
                &ctx,
                salus_app::pharmacy::NewStore {
                    code: field(&f, "code"),
                    name: field(&f, "name"),
                    kind: field(&f, "kind").parse().unwrap_or(StoreKind::Other),
                    facility_id: None,
                    department_id: None,
                    alert_email: field(&f, "alert_email"),
                },
            )
            .await
            .map(|s| format!("Store {} ({}) added.", s.name, s.code)),
        "alert_email" => pharmacy
            .set_alert_email(&ctx, field(&f, "store_id").parse().unwrap_or_default(), &field(&f, "mail_to"))
            .await
            .map(|s| match s.alert_email {
                Some(e) => format!("{}'s daily alerts go to {e}.", s.name),
                None => format!("{}'s daily alerts are no longer mailed.", s.name),
            }),
        "supplier" => pharmacy
            .create_supplier(
                &ctx,
                salus_app::pharmacy::NewSupplier {
                    name: field(&f, "supplier_name"),
                    contact_name: field(&f, "contact_name"),
                    phone: field(&f, "phone"),
                    email: field(&f, "email"),
                    tax_id: field(&f, "tax_id"),
                },
            )
            .await
            .map(|s| format!("Supplier {} added.", s.name)),
        "reorder" => {
            let number = |name: &str| field(&f, name).parse::<i64>().unwrap_or(-1);
            pharmacy
                .set_reorder_level(
                    &ctx,
                    field(&f, "store_id").parse().unwrap_or_default(),
                    field(&f, "item_id").parse().unwrap_or_default(),
                    number("reorder_level"),
                    number("reorder_quantity"),
                )
                .await
                .map(|()| "Reorder level set.".to_owned())
        }
        _ => return Err(not_found("form")),
    };
    let errors = match outcome {
        Ok(text) => return Ok(flash(&state, "/pharmacy/setup", &text)),
        Err(AppError::Invalid(e)) => e
            .into_iter()
            .map(|e| {
                // The supplier form's name field is named apart from the store's.
                let field = match (field(&f, "form").as_str(), e.field) {
                    ("supplier", "name") => "supplier_name",
                    ("alert_email", "alert_email") => "mail_to",
                    (_, f) => f,
                };
                (field.to_owned(), e.message)
            })
            .collect(),
        Err(AppError::NotFound(what)) => vec![("item_id".to_owned(), format!("choose a {what}"))],
        Err(e) => return Ok(flash(&state, "/pharmacy/setup", &refusal(e)?)),
    };
    render_setup(&state, &ctx, page, errors, f).await
}
