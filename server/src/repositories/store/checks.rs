//! SQL for checks: queueing (a burst joins one check), the due sweep, claiming with leases,
//! outcomes and the repository status they update, and check history.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::super::{RepositoryCheck, RepositoryError};
use crate::pagination::{Page, PageRequest};

/// A check request's result: the queued check it created or joined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueuedCheck {
    pub id: Uuid,
    /// Whether this request queued a new check (`false`: it joined one already queued, whose
    /// requester has already woken the pollers).
    pub new: bool,
}

/// Queues a check unless one is already queued, and returns the queued check (a burst of
/// requests joins one check).
pub async fn request_check(
    db: &mut sqlx::PgConnection,
    repository_id: Uuid,
    trigger: &str,
) -> Result<QueuedCheck, RepositoryError> {
    // Under concurrency the conflicting row may be committed after this statement's snapshot
    // was taken (then neither branch sees it): try again.
    for _ in 0..5 {
        let found: Option<(Uuid, bool)> = sqlx::query_as(
            "with inserted as ( \
               insert into repository_check (repository_check_id, repository_id, trigger) \
               values ($1, $2, $3) \
               on conflict (repository_id) where status = 'queued' do nothing \
               returning repository_check_id) \
             select repository_check_id, true from inserted \
             union all \
             select repository_check_id, false from repository_check \
               where repository_id = $2 and status = 'queued' \
             limit 1",
        )
        .bind(Uuid::new_v4())
        .bind(repository_id)
        .bind(trigger)
        .fetch_optional(&mut *db)
        .await?;
        if let Some((id, new)) = found {
            return Ok(QueuedCheck { id, new });
        }
    }
    Err(RepositoryError::Internal(
        "could not queue a check: the queue kept changing".into(),
    ))
}

/// A due repository, locked by the caller's transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct DueRow {
    pub repository_id: Uuid,
    pub schedule_kind: String,
    pub interval_seconds: Option<i32>,
    pub cron: Option<String>,
    pub time_zone: String,
}

/// Repositories whose scheduled run is due, locked (`SKIP LOCKED`: another replica's sweep takes
/// the others), so each tick is handled exactly once.
pub async fn lock_due(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<DueRow>, RepositoryError> {
    Ok(sqlx::query_as::<_, DueRow>(
        "select repository_id, schedule_kind, interval_seconds, cron, time_zone from repository \
         where not paused and next_run_at <= now() \
         order by next_run_at limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn set_next_run(
    db: impl PgExecutor<'_>,
    id: Uuid,
    next: Option<DateTime<Utc>>,
) -> Result<(), RepositoryError> {
    sqlx::query("update repository set next_run_at = $2 where repository_id = $1")
        .bind(id)
        .bind(next)
        .execute(db)
        .await?;
    Ok(())
}

/// A check this replica claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedCheck {
    pub repository_check_id: Uuid,
    pub repository_id: Uuid,
    pub trigger: String,
}

/// Claims up to `limit` queued checks: one running per repository at a time, and at least a
/// second between the starts of two checks of one repository (so bursts coalesce).
pub async fn claim_checks(
    db: impl PgExecutor<'_>,
    owner: Uuid,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<ClaimedCheck>, RepositoryError> {
    Ok(sqlx::query_as::<_, ClaimedCheck>(
        "update repository_check c set status = 'running', started_at = now(), claimed_by = $1, \
           lease_until = now() + make_interval(secs => $3) \
         from (select q.repository_check_id from repository_check q \
               where q.status = 'queued' \
                 and not exists (select 1 from repository_check p \
                   where p.repository_id = q.repository_id and p.status <> 'queued' \
                     and (p.status = 'running' or p.started_at > now() - interval '1 second')) \
               order by q.requested_at limit $2 for update skip locked) due \
         where c.repository_check_id = due.repository_check_id \
         returning c.repository_check_id, c.repository_id, c.trigger",
    )
    .bind(owner)
    .bind(limit)
    .bind(lease_secs as f64)
    .fetch_all(db)
    .await
    .or_else(|e| match &e {
        // Two replicas raced for the same repository: the loser tries again next sweep.
        sqlx::Error::Database(d) if d.is_unique_violation() => Ok(Vec::new()),
        _ => Err(e),
    })?)
}

/// Ends checks whose replica died (lease expired) as failed, so a new one can be queued.
pub async fn reap_expired(db: impl PgExecutor<'_>) -> Result<Vec<(Uuid, String)>, RepositoryError> {
    Ok(sqlx::query_as(
        "update repository_check set status = 'done', outcome = 'failed', finished_at = now(), \
           error = 'interrupted: the replica running this check stopped', error_kind = 'other' \
         where status = 'running' and lease_until < now() \
         returning repository_id, trigger",
    )
    .fetch_all(db)
    .await?)
}

/// The result of a check, recorded with the repository's status.
#[derive(Debug, Clone)]
pub struct CheckRecord {
    pub check_id: Uuid,
    pub repository_id: Uuid,
    pub outcome: &'static str,
    pub error: Option<String>,
    pub error_kind: Option<&'static str>,
    pub duration_ms: i64,
    pub refs_listed: serde_json::Value,
    pub fetched_commits: Vec<String>,
}

pub async fn finish_check(db: impl PgExecutor<'_>, r: &CheckRecord) -> Result<(), RepositoryError> {
    sqlx::query(
        "update repository_check set status = 'done', finished_at = now(), duration_ms = $2, \
           outcome = $3, error = $4, error_kind = $5, refs_listed = $6, fetched_commits = $7 \
         where repository_check_id = $1",
    )
    .bind(r.check_id)
    .bind(r.duration_ms)
    .bind(r.outcome)
    .bind(&r.error)
    .bind(r.error_kind)
    .bind(&r.refs_listed)
    .bind(&r.fetched_commits)
    .execute(db)
    .await?;
    Ok(())
}

/// Records the last check on the repository; a failure counts and may push `next_run_at` back.
pub async fn record_status(
    db: impl PgExecutor<'_>,
    r: &CheckRecord,
    backoff_until: Option<DateTime<Utc>>,
) -> Result<(), RepositoryError> {
    sqlx::query(
        "update repository set last_check_at = now(), last_check_duration_ms = $2, \
           last_outcome = $3, last_error = $4, last_error_kind = $5, \
           consecutive_failures = case when $3 = 'failed' then consecutive_failures + 1 else 0 end, \
           next_run_at = case when $6::timestamptz is not null and next_run_at is not null \
             then greatest(next_run_at, $6) else next_run_at end \
         where repository_id = $1",
    )
    .bind(r.repository_id)
    .bind(r.duration_ms)
    .bind(r.outcome)
    .bind(&r.error)
    .bind(r.error_kind)
    .bind(backoff_until)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn consecutive_failures(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<i32, RepositoryError> {
    Ok(
        sqlx::query_scalar("select consecutive_failures from repository where repository_id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?
            .unwrap_or(0),
    )
}

pub async fn set_ref_seen(
    db: impl PgExecutor<'_>,
    repository_id: Uuid,
    ref_name: &str,
    commit: &str,
) -> Result<(), RepositoryError> {
    sqlx::query(
        "insert into repository_ref (repository_id, ref_name, last_seen_commit) values ($1, $2, $3) \
         on conflict (repository_id, ref_name) do update \
           set last_seen_commit = excluded.last_seen_commit, updated_at = now() \
         where repository_ref.last_seen_commit is distinct from excluded.last_seen_commit",
    )
    .bind(repository_id)
    .bind(ref_name)
    .bind(commit)
    .execute(db)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CheckRow {
    repository_check_id: Uuid,
    repository_id: Uuid,
    trigger: String,
    status: String,
    requested_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    duration_ms: Option<i64>,
    outcome: Option<String>,
    error: Option<String>,
    error_kind: Option<String>,
    refs_listed: serde_json::Value,
    fetched_commits: Vec<String>,
    deployment_event_ids: Vec<Uuid>,
}

impl From<CheckRow> for RepositoryCheck {
    fn from(r: CheckRow) -> Self {
        RepositoryCheck {
            id: r.repository_check_id,
            repository_id: r.repository_id,
            trigger: r.trigger,
            status: r.status,
            requested_at: r.requested_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_ms: r.duration_ms,
            outcome: r.outcome,
            error: r.error,
            error_kind: r.error_kind,
            refs_listed: r.refs_listed,
            fetched_commits: r.fetched_commits,
            deployment_event_ids: r.deployment_event_ids,
        }
    }
}

const CHECK_COLUMNS: &str = "c.repository_check_id, c.repository_id, c.trigger, c.status, \
    c.requested_at, c.started_at, c.finished_at, c.duration_ms, c.outcome, c.error, c.error_kind, \
    c.refs_listed, c.fetched_commits, \
    array(select e.deployment_event_id from deployment_event e \
          where e.repository_check_id = c.repository_check_id order by e.created_at) \
      as deployment_event_ids";

pub async fn get_check(
    db: impl PgExecutor<'_>,
    check_id: Uuid,
) -> Result<Option<RepositoryCheck>, RepositoryError> {
    let sql =
        format!("select {CHECK_COLUMNS} from repository_check c where c.repository_check_id = $1");
    Ok(sqlx::query_as::<_, CheckRow>(sqlx::AssertSqlSafe(sql))
        .bind(check_id)
        .fetch_optional(db)
        .await?
        .map(Into::into))
}

/// Checks of a repository, newest first; the cursor is (requested_at, id).
pub async fn list_checks(
    db: impl PgExecutor<'_>,
    repository_id: Uuid,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Page<RepositoryCheck>, RepositoryError> {
    let sql = format!(
        "select {CHECK_COLUMNS} from repository_check c where c.repository_id = $1 \
           and ($2::timestamptz is null or (c.requested_at, c.repository_check_id) < ($2, $3)) \
         order by c.requested_at desc, c.repository_check_id desc limit $4"
    );
    let rows = sqlx::query_as::<_, CheckRow>(sqlx::AssertSqlSafe(sql))
        .bind(repository_id)
        .bind(page.after.map(|a| a.0))
        .bind(page.after.map(|a| a.1))
        .bind(page.fetch_limit())
        .fetch_all(db)
        .await?;
    let checks: Vec<RepositoryCheck> = rows.into_iter().map(Into::into).collect();
    Ok(page.finish(checks, |c| (c.requested_at, c.id)))
}

/// Extends the lease of a running check (heartbeat of the replica running it).
pub async fn extend_lease(
    db: impl PgExecutor<'_>,
    check_id: Uuid,
    lease_secs: i64,
) -> Result<(), RepositoryError> {
    sqlx::query(
        "update repository_check set lease_until = now() + make_interval(secs => $2) \
         where repository_check_id = $1 and status = 'running'",
    )
    .bind(check_id)
    .bind(lease_secs as f64)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes finished checks older than `days` (their deployment events stay).
pub async fn prune_checks(db: impl PgExecutor<'_>, days: i32) -> Result<u64, RepositoryError> {
    Ok(sqlx::query(
        "delete from repository_check where status = 'done' \
           and finished_at < now() - make_interval(days => $1)",
    )
    .bind(days)
    .execute(db)
    .await?
    .rows_affected())
}
