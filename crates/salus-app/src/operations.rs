//! Idempotency keys: every request that moves stock or money carries one, so a double
//! click, a retry after a lost answer or a second screen does the thing once. The key is
//! recorded in the same transaction as the work (a unique key per user), so a request
//! either did its work and left its key, or did neither.

use chrono::Utc;
use salus_core::FieldError;
use salus_db::ResultExt;
use salus_db::entity::stock_operation;
use salus_db::pharmacy as q;
use sea_orm::DatabaseTransaction;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{AppError, Ctx};

/// The caller's user id (a keyed request is always someone's).
fn me(ctx: &Ctx) -> Result<Uuid, AppError> {
    ctx.actor.user().map(|u| u.id.as_uuid()).ok_or(AppError::Forbidden)
}

/// Where a stock-changing request stands after its idempotency key is looked up.
pub(crate) enum Begun {
    /// First time: the open transaction (its key already recorded in it) to do the work
    /// in, and the operation's id (the ledger rows carry it).
    Fresh(DatabaseTransaction, Uuid),
    /// The same request was done before: what it made.
    Replay(Uuid),
}

/// An idempotency key as a client sends it: 1 to 100 visible characters.
pub fn parse_key(key: &str) -> Result<String, FieldError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(FieldError::new(
            "idempotency_key",
            "send an Idempotency-Key with every change of stock or money, so a retry does it once",
        ));
    }
    if key.len() > 100 || key.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(FieldError::new("idempotency_key", "use at most 100 visible characters, no spaces"));
    }
    Ok(key.to_owned())
}

/// What identifies a request under its key: its kind and its content.
fn request_hash(kind: &str, request: &serde_json::Value) -> String {
    Sha256::digest(format!("{kind}\n{request}").as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// An earlier operation under the same key: a replay if it was the same request.
fn earlier(op: stock_operation::Model, kind: &str, hash: &str) -> Result<Begun, AppError> {
    if op.kind == kind && op.request_hash == hash {
        Ok(Begun::Replay(op.result_id))
    } else {
        Err(AppError::field("idempotency_key", "this key was already used for a different request"))
    }
}

impl crate::App {
    /// What an earlier request with this key made, if it was this same request — looked
    /// up before the request is checked, so a retry of one that succeeded answers what it
    /// did even though its checks would now fail (the prescription it completed, the
    /// stock it took). The same key with another request is refused.
    pub(crate) async fn replayed(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: &'static str,
        request: &serde_json::Value,
    ) -> Result<Option<Uuid>, AppError> {
        let key = parse_key(key)?;
        match q::find_operation(self.db.reader(), me(ctx)?, &key).await? {
            Some(op) => match earlier(op, kind, &request_hash(kind, request))? {
                Begun::Replay(id) => Ok(Some(id)),
                Begun::Fresh(..) => Ok(None),
            },
            None => Ok(None),
        }
    }

    /// A refusal of a keyed request, unless a twin submission with the same key (a retry
    /// sent before the first answered) has meanwhile done it: then the answer is what the
    /// twin made. The twin's own work is what made this one's checks fail (the units it
    /// took, the prescription it completed), so the refusal would tell the client wrongly
    /// that nothing happened.
    pub(crate) async fn unless_replayed<T, F, Fut>(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: &'static str,
        request: &serde_json::Value,
        outcome: Result<T, AppError>,
        load: F,
    ) -> Result<T, AppError>
    where
        F: FnOnce(Uuid) -> Fut,
        Fut: std::future::Future<Output = Result<T, AppError>>,
    {
        match outcome {
            Ok(v) => Ok(v),
            Err(e @ (AppError::Internal(_) | AppError::Unavailable(_) | AppError::Forbidden)) => Err(e),
            Err(e) => match self.replayed(ctx, key, kind, request).await {
                Ok(Some(done)) => load(done).await,
                _ => Err(e),
            },
        }
    }

    /// Opens the write transaction of a stock-changing request, recording its key first.
    /// The same key with the same request again is a replay of what it made (`result`
    /// was its id); the same key with another request is refused. Two submissions racing
    /// with one key: the database's unique key lets one through, the other replays it.
    /// Call [`Self::replayed`] first: this catches only a key recorded since.
    pub(crate) async fn begin_operation(
        &self,
        ctx: &Ctx,
        key: &str,
        kind: &'static str,
        request: &serde_json::Value,
        result: Uuid,
    ) -> Result<Begun, AppError> {
        let key = parse_key(key)?;
        let user = me(ctx)?;
        let hash = request_hash(kind, request);
        // The key was looked up before the request was checked ([`Self::replayed`]); one
        // that arrived since is caught by the unique key below, not by a second look.
        let txn = self.db.begin_write().await?;
        let op = Uuid::now_v7();
        let row = stock_operation::Model {
            id: op,
            created_by: user,
            idempotency_key: key.clone(),
            kind: kind.into(),
            request_hash: hash.clone(),
            result_id: result,
            created_at: Utc::now(),
        };
        let inserted = q::insert_operation(&txn, row).await.on_unique(
            "stock_operations_key",
            "stock_operations.created_by",
            || AppError::Conflict(String::new()),
        );
        match inserted {
            Ok(()) => Ok(Begun::Fresh(txn, op)),
            Err(AppError::Conflict(_)) => {
                drop(txn);
                match q::find_operation(self.db.reader(), user, &key).await? {
                    Some(op) => earlier(op, kind, &hash),
                    None => Err(AppError::Conflict("the same request is being processed; try again".into())),
                }
            }
            Err(e) => Err(e),
        }
    }
}
