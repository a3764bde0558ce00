//! Dispensing a patient's prescriptions, taking a line back, the receipt with its labels,
//! and counter sales.

use super::*;

local!(DispensePage, ReceiptPage);
shows_store!(SalePage);

#[derive(Template)]
#[template(path = "pharmacy_dispense.html")]
struct DispensePage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    who: LabPatient,
    stores: Vec<Store>,
    store: Store,
    items: Vec<ToDispense>,
    recent: Vec<DispenseDetail>,
    key: String,
    /// Messages by prescription id (beside its row), and any for the whole form.
    errors: Vec<(String, String)>,
    /// What was typed, by field name.
    typed: Vec<(String, String)>,
    currency: Currency,
}

impl DispensePage {
    fn error_for(&self, rx: &Uuid) -> Option<String> {
        let key = rx.to_string();
        self.errors.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    }
    fn general_errors(&self) -> Vec<String> {
        self.errors.iter().filter(|(k, _)| k.parse::<Uuid>().is_err()).map(|(_, v)| v.clone()).collect()
    }
    fn typed(&self, name: &str, rx: &Uuid) -> String {
        let k = format!("{name}:{rx}");
        self.typed.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    /// What to put in the quantity box: what was typed, else what remains.
    fn quantity(&self, t: &ToDispense) -> String {
        let typed = self.typed("qty", &t.prescription.id);
        if !typed.is_empty() || !self.typed.is_empty() {
            return typed;
        }
        // What remains, as far as the store has it (a row it cannot fill is left empty, so
        // it does not hold up the others).
        let usable: i64 = t.options.iter().map(|o| o.available).max().unwrap_or(0);
        match t.remaining.map(|r| r.min(usable)) {
            Some(n) if n > 0 => n.to_string(),
            _ => String::new(),
        }
    }
    fn is_store(&self, s: &Store) -> bool {
        s.id == self.store.id
    }
    fn price(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn first_lot(&self, t: &ToDispense) -> Option<Lot> {
        t.options
            .iter()
            .flat_map(|o| o.lots.iter())
            .min_by_key(|l| (l.batch.expiry_date, l.batch.created_at))
            .cloned()
    }
    fn chosen(&self, name: &str, rx: &Uuid, value: &str) -> bool {
        self.typed(name, rx) == value
    }
}

/// A patient's prescriptions to dispense from the chosen store.
pub(super) async fn dispense_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    render_dispense(&state, &ctx, page, patient, &q.store, Vec::new(), Vec::new()).await
}

pub(super) async fn render_dispense(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    patient: PatientId,
    store: &str,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let stores = pharmacy.stores(ctx).await?;
    let store = pick(&stores, store).ok_or_else(|| not_found("store"))?;
    let (who, store, items) = pharmacy.to_dispense(ctx, patient, store.id).await?;
    let mut recent = Vec::new();
    for d in pharmacy.dispensings_of(ctx, patient).await?.into_iter().take(5) {
        recent.push(pharmacy.dispensing(ctx, d.id).await?);
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(render(
        status,
        &DispensePage {
            tz: state.app.time_zone,
            page,
            who,
            stores,
            store,
            items,
            recent,
            key: new_key(),
            errors,
            typed,
            currency: state.app.currency,
        },
    ))
}

/// Dispenses the rows with a quantity; a refusal comes back beside its row, typed values kept.
pub(super) async fn dispense(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let patient: PatientId = raw.parse().map_err(|_| not_found("patient"))?;
    let store_raw = field(&f, "store_id");
    let store: Uuid = store_raw.parse().map_err(|_| not_found("store"))?;
    let rxs: Vec<Uuid> = f.iter().filter(|(k, _)| k == "rx").filter_map(|(_, v)| v.parse().ok()).collect();
    let mut lines = Vec::new();
    let mut rows = Vec::new();
    for rx in &rxs {
        let qty = field(&f, &format!("qty:{rx}"));
        if qty.is_empty() || qty == "0" {
            continue;
        }
        rows.push(*rx);
        lines.push(LineInput {
            prescription_id: Some(*rx),
            item_id: field(&f, &format!("item:{rx}")).parse().ok(),
            quantity: qty.parse().unwrap_or(-1),
            batch_id: field(&f, &format!("batch:{rx}")).parse().ok(),
            override_reason: field(&f, &format!("override:{rx}")),
            substitution_reason: field(&f, &format!("subst:{rx}")),
        });
    }
    let errors: Vec<(String, String)> = if lines.is_empty() {
        vec![("form".into(), "Enter a quantity for at least one prescription.".into())]
    } else {
        match state.app.pharmacy().dispense(&ctx, &field(&f, "idempotency_key"), patient, store, lines).await
        {
            Ok(d) => {
                let text = format!("Dispensed {} ({} line(s)).", d.dispense.number, d.lines.len());
                return Ok(flash(&state, &format!("/pharmacy/dispenses/{}", d.dispense.id), &text));
            }
            Err(AppError::Invalid(errors)) => errors
                .into_iter()
                .map(|e| {
                    // "line 2: …" belongs beside the second row given.
                    let row = e
                        .message
                        .strip_prefix("line ")
                        .and_then(|r| r.split_once(':'))
                        .and_then(|(n, m)| Some((n.parse::<usize>().ok()?, m.trim().to_owned())));
                    match row.and_then(|(n, m)| Some((rows.get(n.checked_sub(1)?)?.to_string(), m))) {
                        Some((rx, m)) => (rx, m),
                        None => (e.field.to_owned(), e.message),
                    }
                })
                .collect(),
            Err(e @ AppError::OutOfStock { .. }) => vec![("form".into(), format!("Not dispensed: {e}."))],
            Err(e) => {
                return Ok(flash(
                    &state,
                    &format!("/pharmacy/patients/{patient}?store={store}"),
                    &refusal(e)?,
                ));
            }
        }
    };
    render_dispense(&state, &ctx, page, patient, &store_raw, errors, f).await
}

/// Takes back units of a dispensed line.
pub(super) async fn take_back(
    State(state): State<AppState>,
    SignedIn(_, ctx, _page): SignedIn,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let line: Uuid = raw.parse().map_err(|_| not_found("line"))?;
    let back = crate::views::safe_next(Some(&field(&f, "back"))).to_owned();
    let quantity = field(&f, "quantity").parse().unwrap_or(-1);
    let text = match state
        .app
        .pharmacy()
        .take_back(&ctx, &field(&f, "idempotency_key"), line, quantity, &field(&f, "reason"))
        .await
    {
        Ok(m) => format!("{} back in stock (now {} on hand in that batch).", m.quantity, m.balance_after),
        Err(e) => refusal(e)?,
    };
    Ok(flash(&state, &back, &text))
}

#[derive(Template)]
#[template(path = "pharmacy_receipt.html")]
struct ReceiptPage {
    tz: chrono_tz::Tz,
    page: PageCtx,
    d: DispenseDetail,
    currency: Currency,
    hospital: String,
}

impl ReceiptPage {
    fn price(&self, minor: &i64) -> String {
        money(self.currency, *minor)
    }
    fn amount(&self, l: &salus_core::pharmacy::DispenseLine) -> String {
        money(self.currency, l.amount_minor())
    }
    fn totals(&self) -> (String, String, String) {
        let (n, t, g) = self.d.totals();
        (money(self.currency, n), money(self.currency, t), money(self.currency, g))
    }
    /// A tax rate as people write it: "5 %", "12.5 %".
    fn rate(&self, bp: &i32) -> String {
        let whole = bp / 100;
        match bp % 100 {
            0 => format!("{whole} %"),
            frac if frac % 10 == 0 => format!("{whole}.{} %", frac / 10),
            frac => format!("{whole}.{frac:02} %"),
        }
    }
    fn is_sale(&self) -> bool {
        self.d.dispense.kind == salus_core::pharmacy::DispenseKind::Sale
    }
}

/// A dispensing's receipt and its labels, printable.
pub(super) async fn receipt_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id: Uuid = raw.parse().map_err(|_| not_found("dispensing"))?;
    let d = state.app.pharmacy().dispensing(&ctx, id).await?;
    let hospital = crate::views::letterhead(&state).await?;
    Ok(render(
        StatusCode::OK,
        &ReceiptPage { tz: state.app.time_zone, page, d, currency: state.app.currency, hospital },
    ))
}

#[derive(Template)]
#[template(path = "pharmacy_sale.html")]
struct SalePage {
    page: PageCtx,
    stores: Vec<Store>,
    store: Option<Store>,
    rows_in_stock: Vec<PositionRow>,
    key: String,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
}

/// Lines on the sale form.
const SALE_ROWS: usize = 5;

impl SalePage {
    fn rows(&self) -> std::ops::Range<usize> {
        0..SALE_ROWS
    }
    fn typed(&self, name: &str) -> String {
        self.typed.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn cell(&self, name: &str, row: &usize) -> String {
        self.typed(&format!("{name}{row}"))
    }
    fn chosen_item(&self, row: &usize, item: &Uuid) -> bool {
        self.cell("item", row) == item.to_string()
    }
}

pub(super) async fn sale_page(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Query(q): Query<StoreQuery>,
) -> Result<Response, PageError> {
    render_sale(&state, &ctx, page, &q.store, Vec::new(), Vec::new()).await
}

pub(super) async fn render_sale(
    state: &AppState,
    ctx: &salus_app::Ctx,
    page: PageCtx,
    store: &str,
    errors: Vec<(String, String)>,
    typed: Vec<(String, String)>,
) -> Result<Response, PageError> {
    let pharmacy = state.app.pharmacy();
    let (stores, store) = choose_store(state, ctx, store).await?;
    let rows_in_stock = match &store {
        Some(s) => {
            pharmacy.position(ctx, s.id, None, 200).await?.into_iter().filter(|r| r.available > 0).collect()
        }
        None => Vec::new(),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let key =
        typed.iter().find(|(k, _)| k == "idempotency_key").map(|(_, v)| v.clone()).unwrap_or_else(new_key);
    Ok(render(status, &SalePage { page, stores, store, rows_in_stock, key, errors, typed }))
}

/// Sells over the counter; a refusal comes back with what was typed.
pub(super) async fn sell(
    State(state): State<AppState>,
    SignedIn(_, ctx, page): SignedIn,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut lines = Vec::new();
    for row in 0..SALE_ROWS {
        let item = field(&f, &format!("item{row}"));
        if item.is_empty() {
            continue;
        }
        lines.push(LineInput {
            item_id: item.parse().ok(),
            quantity: field(&f, &format!("qty{row}")).parse().unwrap_or(-1),
            ..Default::default()
        });
    }
    let store_raw = field(&f, "store_id");
    let input = SaleInput {
        store_id: store_raw.parse().unwrap_or_default(),
        patient_id: None,
        customer_name: field(&f, "customer_name"),
        lines,
    };
    let errors = match state.app.pharmacy().sell(&ctx, &field(&f, "idempotency_key"), input).await {
        Ok(d) => {
            let text = format!("Sold: receipt {}.", d.dispense.number);
            return Ok(flash(&state, &format!("/pharmacy/dispenses/{}", d.dispense.id), &text));
        }
        Err(AppError::Invalid(e)) => e.into_iter().map(|e| (e.field.to_owned(), e.message)).collect(),
        Err(e @ AppError::OutOfStock { .. }) => vec![("lines".to_owned(), format!("Not sold: {e}."))],
        Err(AppError::NotFound(what)) => vec![("store_id".to_owned(), format!("choose a {what}"))],
        Err(e) => return Ok(flash(&state, "/pharmacy/sale", &refusal(e)?)),
    };
    render_sale(&state, &ctx, page, &store_raw, errors, f).await
}
