//! The revocation log (`auth_revocations`): what each instance's sign-in cache looks at
//! before trusting a cached session or token.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// One logged change to a credential (see the `auth_revocations` migration): the user
/// whose sign-ins must be re-read, and the one session or token if only one is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    pub seq: i64,
    /// When it was logged, in milliseconds since the epoch (the database's clock).
    pub at_ms: i64,
    pub user_id: Uuid,
    pub credential_id: Option<Uuid>,
}

/// Revocations logged after `since_ms` (milliseconds since the epoch, the database's
/// clock), oldest first. Every signed-in request waits for one of these, so on SQLite it
/// runs on the calling thread ([`crate::fast`]). The statement reads the window along the
/// `at_ms` index and the rows are put in order here: asked to order by `seq`, SQLite
/// scanned the whole day's log on every look instead (a fifth of a signed-in request's
/// CPU with two hundred rows logged).
pub async fn revocations_since(db: &crate::Db, since_ms: i64) -> Result<Vec<Revocation>, DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    let mut out = if let Some(fast) = db.fast() {
        fast.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, at_ms, user_id, credential_id FROM auth_revocations WHERE at_ms > ?1",
            )?;
            let rows = stmt.query_map([since_ms], |r| {
                Ok(Revocation {
                    seq: r.get(0)?,
                    at_ms: r.get(1)?,
                    user_id: r.get(2)?,
                    credential_id: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?
    } else {
        let col = |c: &str| Expr::col(Alias::new(c));
        let stmt = Query::select()
            .columns([
                Alias::new("seq"),
                Alias::new("at_ms"),
                Alias::new("user_id"),
                Alias::new("credential_id"),
            ])
            .from(Alias::new("auth_revocations"))
            .and_where(col("at_ms").gt(since_ms))
            .to_owned();
        db.reader()
            .query_all(&stmt)
            .await?
            .iter()
            .map(|r| {
                Ok(Revocation {
                    seq: r.try_get("", "seq")?,
                    at_ms: r.try_get("", "at_ms")?,
                    user_id: r.try_get("", "user_id")?,
                    credential_id: r.try_get("", "credential_id")?,
                })
            })
            .collect::<Result<Vec<_>, DbErr>>()?
    };
    out.sort_by_key(|r| r.seq);
    Ok(out)
}

/// Forgets revocations logged before `before_ms`: caches re-read anything older.
pub async fn purge_revocations<C: ConnectionTrait>(conn: &C, before_ms: i64) -> Result<u64, DbErr> {
    use sea_orm::sea_query::{Alias, Query};
    let stmt = Query::delete()
        .from_table(Alias::new("auth_revocations"))
        .and_where(Expr::col(Alias::new("at_ms")).lt(before_ms))
        .to_owned();
    Ok(conn.execute(&stmt).await?.rows_affected())
}
