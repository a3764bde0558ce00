//! Queries of the audit trail. There is deliberately no update or delete of events or
//! seals here; the only delete is of the sealer's work queue.

use crate::merge::PatientLink;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::entity::{audit_event, audit_pending, audit_seal};

/// Audit events are append-only: they keep the record they were written about, and the
/// merge's own event names both records.
pub const PATIENT_LINKS: &[PatientLink] =
    &[PatientLink::stays("audit_events", "patient_id", "append-only; the merge's event names both records")];

/// Inserts an event and queues it for sealing, on the caller's transaction.
pub async fn insert_event<C: ConnectionTrait>(conn: &C, e: audit_event::Model) -> Result<(), DbErr> {
    let id = e.id;
    audit_event::ActiveModel {
        id: Set(e.id),
        at: Set(e.at),
        actor_id: Set(e.actor_id),
        actor_name: Set(e.actor_name),
        actor_roles: Set(e.actor_roles),
        action: Set(e.action),
        outcome: Set(e.outcome),
        resource_type: Set(e.resource_type),
        resource_id: Set(e.resource_id),
        patient_id: Set(e.patient_id),
        client_ip: Set(e.client_ip),
        request_id: Set(e.request_id),
        reason: Set(e.reason),
        detail: Set(e.detail),
    }
    .insert(conn)
    .await?;
    audit_pending::ActiveModel { event_id: Set(id) }.insert(conn).await.map(|_| ())
}

/// Inserts many events and queues them for sealing (the read auditor's batches).
pub async fn insert_events<C: ConnectionTrait>(
    conn: &C,
    events: Vec<audit_event::Model>,
) -> Result<(), DbErr> {
    use sea_orm::IntoActiveModel;
    for chunk in events.chunks(500) {
        let ids: Vec<Uuid> = chunk.iter().map(|e| e.id).collect();
        audit_event::Entity::insert_many(chunk.iter().cloned().map(|e| e.into_active_model().reset_all()))
            .exec(conn)
            .await?;
        audit_pending::Entity::insert_many(
            ids.into_iter().map(|id| audit_pending::ActiveModel { event_id: Set(id) }),
        )
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// [`insert_events`] on a rusqlite transaction ([`crate::Db::append_read_events`]): each
/// value written as sqlx writes it (ids as 16-byte blobs, times as RFC 3339 text), so the
/// rows read back, sort and seal the same. Returns the statements it counts as: one per
/// table, like the multi-row inserts of [`insert_events`] it stands for (the rows go
/// through one prepared statement each, with no round trip between them), so a route's
/// statement budget is the same on both databases.
pub(crate) fn insert_events_sqlite(
    tx: &rusqlite::Transaction<'_>,
    events: &[audit_event::Model],
) -> rusqlite::Result<((), u64)> {
    let mut event = tx.prepare_cached(
        "INSERT INTO audit_events (id, at, actor_id, actor_name, actor_roles, action, outcome, \
         resource_type, resource_id, patient_id, client_ip, request_id, reason, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    let mut pending = tx.prepare_cached("INSERT INTO audit_pending (event_id) VALUES (?1)")?;
    for e in events {
        event.execute(rusqlite::params![
            e.id,
            e.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
            e.actor_id,
            e.actor_name,
            e.actor_roles,
            e.action,
            e.outcome.as_str(),
            e.resource_type,
            e.resource_id,
            e.patient_id,
            e.client_ip,
            e.request_id,
            e.reason,
            e.detail,
        ])?;
        pending.execute([e.id])?;
    }
    Ok(((), if events.is_empty() { 0 } else { 2 }))
}

/// The last link of the chain, if any.
pub async fn last_seal<C: ConnectionTrait>(conn: &C) -> Result<Option<audit_seal::Model>, DbErr> {
    audit_seal::Entity::find().order_by_desc(audit_seal::Column::Seq).one(conn).await
}

/// Up to `limit` queued events, oldest id first.
pub async fn pending_events<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    let ids: Vec<Uuid> = audit_pending::Entity::find()
        .order_by_asc(audit_pending::Column::EventId)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.event_id)
        .collect();
    events_by_ids(conn, &ids).await
}

pub async fn events_by_ids<C: ConnectionTrait>(
    conn: &C,
    ids: &[Uuid],
) -> Result<Vec<audit_event::Model>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    audit_event::Entity::find()
        .filter(audit_event::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(audit_event::Column::Id)
        .all(conn)
        .await
}

/// Appends seals and takes their events off the queue.
pub async fn append_seals<C: ConnectionTrait>(conn: &C, seals: Vec<audit_seal::Model>) -> Result<(), DbErr> {
    if seals.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = seals.iter().map(|s| s.event_id).collect();
    audit_seal::Entity::insert_many(seals.into_iter().map(|s| audit_seal::ActiveModel {
        seq: Set(s.seq),
        event_id: Set(s.event_id),
        prev_hash: Set(s.prev_hash),
        hash: Set(s.hash),
        sealed_at: Set(s.sealed_at),
    }))
    .exec(conn)
    .await?;
    audit_pending::Entity::delete_many().filter(audit_pending::Column::EventId.is_in(ids)).exec(conn).await?;
    Ok(())
}

/// Seals after position `after` with their events (`None` where the event is gone), in
/// chain order, in one query.
pub async fn links_after<C: ConnectionTrait>(
    conn: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<(audit_seal::Model, Option<audit_event::Model>)>, DbErr> {
    audit_seal::Entity::find()
        .find_also_related(audit_event::Entity)
        .filter(audit_seal::Column::Seq.gt(after))
        .order_by_asc(audit_seal::Column::Seq)
        .limit(limit)
        .all(conn)
        .await
}

/// Seals after position `after`, in chain order.
pub async fn seals_after<C: ConnectionTrait>(
    conn: &C,
    after: i64,
    limit: u64,
) -> Result<Vec<audit_seal::Model>, DbErr> {
    audit_seal::Entity::find()
        .filter(audit_seal::Column::Seq.gt(after))
        .order_by_asc(audit_seal::Column::Seq)
        .limit(limit)
        .all(conn)
        .await
}

pub async fn count_events<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    audit_event::Entity::find().count(conn).await
}

pub async fn count_pending<C: ConnectionTrait>(conn: &C) -> Result<u64, DbErr> {
    audit_pending::Entity::find().count(conn).await
}

/// Events with `from <= at < to`, in time order, after the `(at, id)` position `after`.
pub async fn events_between<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    use sea_orm::Condition;
    let mut q = audit_event::Entity::find()
        .filter(audit_event::Column::At.gte(from))
        .filter(audit_event::Column::At.lt(to))
        .order_by_asc(audit_event::Column::At)
        .order_by_asc(audit_event::Column::Id)
        .limit(limit);
    if let Some((at, id)) = after {
        q =
            q.filter(Condition::any().add(audit_event::Column::At.gt(at)).add(
                Condition::all().add(audit_event::Column::At.eq(at)).add(audit_event::Column::Id.gt(id)),
            ));
    }
    q.all(conn).await
}

/// Events whose action starts with `action_prefix`, oldest first.
pub async fn actions_of<C: ConnectionTrait>(
    conn: &C,
    action_prefix: &str,
) -> Result<Vec<audit_event::Model>, DbErr> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.starts_with(action_prefix))
        .order_by_asc(audit_event::Column::Id)
        .all(conn)
        .await
}

pub use salus_core::audit::EventFilter;

/// Events matching `filter`, newest first, before the `(at, id)` position `before`. Each
/// filter has an index led by its column and followed by `at`, so a page costs the same
/// at ten million events as at ten.
pub async fn search_events<C: ConnectionTrait>(
    conn: &C,
    filter: &EventFilter,
    before: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<audit_event::Model>, DbErr> {
    use sea_orm::Condition;
    let mut q = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(limit);
    if let Some(a) = filter.actor_id {
        q = q.filter(audit_event::Column::ActorId.eq(a));
    }
    if let Some(p) = filter.patient_id {
        q = q.filter(audit_event::Column::PatientId.eq(p));
    }
    if let Some(prefix) = &filter.action_prefix {
        q = q.filter(audit_event::Column::Action.starts_with(prefix.as_str()));
    }
    if let Some(from) = filter.from {
        q = q.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        q = q.filter(audit_event::Column::At.lt(to));
    }
    if let Some((at, id)) = before {
        q =
            q.filter(Condition::any().add(audit_event::Column::At.lt(at)).add(
                Condition::all().add(audit_event::Column::At.eq(at)).add(audit_event::Column::Id.lt(id)),
            ));
    }
    q.all(conn).await
}
