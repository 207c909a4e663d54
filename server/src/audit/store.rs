//! SQL for the audit log.

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

use super::{AuditEvent, NewAuditEvent};
use crate::pagination::{Page, PageRequest};

pub async fn insert(db: impl PgExecutor<'_>, e: &NewAuditEvent<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_event (actor_id, actor, action, target, client_addr, details) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.actor.id)
    .bind(e.actor.label.as_deref())
    .bind(e.action)
    .bind(e.target.as_deref())
    .bind(e.actor.client_addr.as_deref())
    .bind(&e.details)
    .execute(db)
    .await?;
    Ok(())
}

/// Filters for the audit list; text filters match exactly, except `action` which also matches a
/// prefix ending in `.` (e.g. `user.` for every user action).
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Newest first; the cursor is the last event id.
pub async fn list(
    db: &PgPool,
    f: &AuditFilter,
    page: &PageRequest<i64>,
) -> Result<Page<AuditEvent>, sqlx::Error> {
    let rows = sqlx::query_as::<_, AuditEvent>(
        "select audit_event_id, at, actor, actor_id, action, target, client_addr, details \
         from audit_event \
         where ($1::bigint is null or audit_event_id < $1) \
           and ($2::text is null or actor = $2 or starts_with(actor, $2 || ' (token ')) \
           and ($3::text is null or action = $3 or (right($3, 1) = '.' and starts_with(action, $3))) \
           and ($4::text is null or target = $4) \
           and ($5::timestamptz is null or at >= $5) \
           and ($6::timestamptz is null or at < $6) \
         order by audit_event_id desc limit $7",
    )
    .bind(page.after)
    .bind(f.actor.as_deref())
    .bind(f.action.as_deref())
    .bind(f.target.as_deref())
    .bind(f.since)
    .bind(f.until)
    .bind(page.fetch_limit())
    .fetch_all(db)
    .await?;
    Ok(page.finish(rows, |e| e.id))
}
