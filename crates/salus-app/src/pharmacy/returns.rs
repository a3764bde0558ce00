//! Patient returns: units of a dispensed line back into the store they came from, never
//! more than were given; the prescription's count and the unbilled charge shrink with it.

use salus_core::pharmacy::{Movement, MovementKind, parse_quantity};
use salus_core::{FieldError, PatientId};
use salus_db::pharmacy as q;
use serde_json::json;
use uuid::Uuid;

use super::dispensing::CHARGE_SOURCE;
use super::stock::{Change, apply};
use super::{Begun, me};
use crate::audit::{self, Event};
use crate::identity::Permission;
use crate::patients::timeline_row;
use crate::{AppError, Ctx};

impl crate::Pharmacy<'_> {
    /// The movement a patient return made, answered to a retry of it: a read of the
    /// patient's record, audited as one.
    async fn returned(&self, ctx: &Ctx, id: Uuid) -> Result<Movement, AppError> {
        let m: Movement = q::movements_of_source(self.db.reader(), "patient_return", id)
            .await?
            .pop()
            .ok_or(AppError::NotFound("return"))?
            .into();
        if let Some(p) = m.patient_id {
            let event = Event::new("pharmacy.replay", "patient_return", Some(id.to_string())).patient(p);
            self.reads.record(vec![audit::row(ctx, event)]).await?;
        }
        Ok(m)
    }

    /// Takes back units of a dispensed line into the store it came from: never more than
    /// were given and not yet brought back; its unbilled charge shrinks by as much.
    pub async fn take_back(
        &self,
        ctx: &Ctx,
        key: &str,
        line: Uuid,
        quantity: i64,
        reason: &str,
    ) -> Result<Movement, AppError> {
        let outcome = self.take_back_once(ctx, key, line, quantity, reason).await;
        let request = json!({ "line": line, "quantity": quantity, "reason": reason });
        self.unless_replayed(ctx, key, "patient_return", &request, outcome, |id| self.returned(ctx, id)).await
    }

    async fn take_back_once(
        &self,
        ctx: &Ctx,
        key: &str,
        line: Uuid,
        quantity: i64,
        reason: &str,
    ) -> Result<Movement, AppError> {
        let conn = self.db.reader();
        let l = q::find_line(conn, line).await?.ok_or(AppError::NotFound("dispensed line"))?;
        let Some(patient) = l.patient_id else {
            return Err(AppError::Conflict(
                "a walk-in sale is refunded at the counter, not taken back here".into(),
            ));
        };
        self.clinical()
            .clinical_patient(ctx, PatientId::from_uuid(patient), Permission::PharmacyDispense)
            .await?;
        let request = json!({ "line": line, "quantity": quantity, "reason": reason });
        if let Some(done) = self.replayed(ctx, key, "patient_return", &request).await? {
            return self.returned(ctx, done).await;
        }
        let quantity = parse_quantity(quantity, "quantity")?;
        let reason = salus_core::organisation::parse_label(reason, "reason", 300)
            .map_err(|_| FieldError::new("reason", "say why it comes back"))?;
        let d = q::find_dispense(conn, l.dispense_id).await?.ok_or(AppError::NotFound("dispensing"))?;
        let (batch, item) = (
            q::find_batch(conn, l.batch_id).await?.ok_or(AppError::NotFound("batch"))?,
            q::find_item(conn, l.item_id).await?.ok_or(AppError::NotFound("stock item"))?,
        );
        let id = Uuid::now_v7();
        let (txn, op) = match self.begin_operation(ctx, key, "patient_return", &request, id).await? {
            Begun::Replay(id) => return self.returned(ctx, id).await,
            Begun::Fresh(txn, op) => (txn, op),
        };
        if !q::return_to_line(&txn, line, quantity).await? {
            let now = q::find_line(&txn, line).await?.map_or(0, |l| l.quantity - l.returned);
            return Err(AppError::Conflict(format!(
                "only {now} of the {} given can come back; {quantity} asked for",
                l.quantity
            )));
        }
        let by = me(ctx)?;
        let change = Change {
            store: d.store_id,
            batch: &batch,
            item: &item,
            quantity,
            kind: MovementKind::PatientReturn,
            reason: Some(reason.clone()),
            source: ("patient_return", id),
            patient: Some(patient),
        };
        let m = apply(&txn, std::slice::from_ref(&change), op, by, self.today()).await?.remove(0);
        if let Some(rx) = l.prescription_id {
            q::remove_dispensed(&txn, rx, quantity).await?;
        }
        let n = i32::try_from(quantity).unwrap_or(i32::MAX);
        let reversed = salus_db::charges::reduce_unbilled_charge(&txn, CHARGE_SOURCE, line, n).await?;
        salus_db::patients::insert_timeline(
            &txn,
            vec![timeline_row(
                patient,
                "dispense",
                format!("Returned {} × {quantity} ({})", l.item_name, d.number),
                ctx,
            )],
        )
        .await?;
        let event = Event::new("pharmacy.patient_return", "dispense_line", Some(line.to_string()))
            .patient(patient)
            .detail(json!({
                "number": d.number, "item": l.item_name, "batch": l.batch_no, "quantity": quantity,
                "reason": reason, "charge_reversed": reversed,
            }));
        audit::record(&txn, ctx, event).await?;
        txn.commit().await?;
        Ok(m.into())
    }
}
