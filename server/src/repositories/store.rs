//! SQL for repositories, their refs and checks. The only place repository SQL lives.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::schedule::Schedule;
use super::url::UrlScheme;
use super::{
    AuthKind, Repository, RepositoryCheck, RepositoryError, RepositoryStatus, RepositorySummary,
};
use crate::pagination::{Page, PageRequest};

/// The channel replicas `LISTEN` on: schedule edits and check requests.
pub const CHANNEL: &str = "berth_repositories";

/// A repository row, sealed values included.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepositoryRow {
    pub repository_id: Uuid,
    pub name: String,
    pub url: String,
    pub url_key: String,
    pub auth_kind: String,
    pub username: Option<String>,
    pub sealed_credential: Option<Vec<u8>>,
    pub known_hosts: Option<String>,
    pub ca_bundle: Option<String>,
    pub skip_tls_verify: bool,
    pub schedule_kind: String,
    pub interval_seconds: Option<i32>,
    pub cron: Option<String>,
    pub time_zone: String,
    pub paused: bool,
    pub sealed_webhook_secret: Vec<u8>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_check_duration_ms: Option<i64>,
    pub last_outcome: Option<String>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub consecutive_failures: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub stack_count: i64,
}

impl RepositoryRow {
    pub fn schedule(&self) -> Schedule {
        Schedule::from_stored(
            &self.schedule_kind,
            self.interval_seconds,
            self.cron.as_deref(),
            &self.time_zone,
        )
    }

    /// The API view (no sealed values).
    pub fn to_api(&self) -> Repository {
        let scheme = super::url::parse(&self.url, true).map_or(UrlScheme::Https, |u| u.scheme);
        Repository {
            id: self.repository_id,
            name: self.name.clone(),
            url: self.url.clone(),
            scheme,
            insecure_url: matches!(scheme, UrlScheme::Http | UrlScheme::Git),
            auth_kind: AuthKind::from_db(&self.auth_kind),
            username: self.username.clone(),
            has_credential: self.sealed_credential.is_some(),
            known_hosts: self.known_hosts.clone(),
            ca_bundle: self.ca_bundle.clone(),
            skip_tls_verify: self.skip_tls_verify,
            schedule: self.schedule().to_spec(),
            paused: self.paused,
            status: RepositoryStatus {
                last_check_at: self.last_check_at,
                last_check_duration_ms: self.last_check_duration_ms,
                last_outcome: self.last_outcome.clone(),
                last_error: self.last_error.clone(),
                last_error_kind: self.last_error_kind.clone(),
                consecutive_failures: self.consecutive_failures,
                next_check_at: self.next_run_at,
            },
            stack_count: self.stack_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

const COLUMNS: &str = "r.repository_id, r.name, r.url, r.url_key, r.auth_kind, r.username, \
    r.sealed_credential, r.known_hosts, r.ca_bundle, r.skip_tls_verify, r.schedule_kind, \
    r.interval_seconds, r.cron, r.time_zone, r.paused, r.sealed_webhook_secret, r.next_run_at, \
    r.last_check_at, r.last_check_duration_ms, r.last_outcome, r.last_error, r.last_error_kind, \
    r.consecutive_failures, r.created_at, r.updated_at, \
    (select count(*) from stack s where s.repository_id = r.repository_id) as stack_count";

fn name_taken(e: sqlx::Error) -> RepositoryError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => RepositoryError::NameTaken,
        _ => RepositoryError::Database(e),
    }
}

/// Inserts or replaces every stored field of a repository (status columns excepted).
pub async fn upsert(db: impl PgExecutor<'_>, r: &RepositoryRow) -> Result<(), RepositoryError> {
    sqlx::query(
        "insert into repository (repository_id, name, url, url_key, auth_kind, username, \
           sealed_credential, known_hosts, ca_bundle, skip_tls_verify, schedule_kind, \
           interval_seconds, cron, time_zone, paused, sealed_webhook_secret, next_run_at) \
         values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17) \
         on conflict (repository_id) do update set name = excluded.name, url = excluded.url, \
           url_key = excluded.url_key, auth_kind = excluded.auth_kind, username = excluded.username, \
           sealed_credential = excluded.sealed_credential, known_hosts = excluded.known_hosts, \
           ca_bundle = excluded.ca_bundle, skip_tls_verify = excluded.skip_tls_verify, \
           schedule_kind = excluded.schedule_kind, interval_seconds = excluded.interval_seconds, \
           cron = excluded.cron, time_zone = excluded.time_zone, paused = excluded.paused, \
           sealed_webhook_secret = excluded.sealed_webhook_secret, \
           next_run_at = excluded.next_run_at, updated_at = now()",
    )
    .bind(r.repository_id)
    .bind(&r.name)
    .bind(&r.url)
    .bind(&r.url_key)
    .bind(&r.auth_kind)
    .bind(&r.username)
    .bind(&r.sealed_credential)
    .bind(&r.known_hosts)
    .bind(&r.ca_bundle)
    .bind(r.skip_tls_verify)
    .bind(&r.schedule_kind)
    .bind(r.interval_seconds)
    .bind(&r.cron)
    .bind(&r.time_zone)
    .bind(r.paused)
    .bind(&r.sealed_webhook_secret)
    .bind(r.next_run_at)
    .execute(db)
    .await
    .map_err(name_taken)?;
    Ok(())
}

pub async fn get(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<RepositoryRow>, RepositoryError> {
    let sql = format!("select {COLUMNS} from repository r where r.repository_id = $1");
    Ok(sqlx::query_as::<_, RepositoryRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// Locks the row for an update in the caller's transaction.
pub async fn get_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<RepositoryRow>, RepositoryError> {
    let sql =
        format!("select {COLUMNS} from repository r where r.repository_id = $1 for update of r");
    Ok(sqlx::query_as::<_, RepositoryRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// Which repositories a list shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Part of the name or URL.
    pub search: Option<String>,
    /// Only those whose last check failed (`true`) or did not (`false`).
    pub failing: Option<bool>,
}

/// Repositories ordered by name; the cursor is the last name.
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: &ListFilter,
    page: &PageRequest<String>,
) -> Result<Page<RepositoryRow>, RepositoryError> {
    let sql = format!(
        "select {COLUMNS} from repository r \
         where ($1::text is null or r.name > $1) \
           and ($2::text is null or strpos(lower(r.name || ' ' || r.url), lower($2)) > 0) \
           and ($4::bool is null or (r.last_outcome is not distinct from 'failed') = $4) \
         order by r.name limit $3"
    );
    let rows = sqlx::query_as::<_, RepositoryRow>(sqlx::AssertSqlSafe(sql))
        .bind(page.after.as_deref())
        .bind(filter.search.as_deref())
        .bind(page.fetch_limit())
        .bind(filter.failing)
        .fetch_all(db)
        .await?;
    Ok(page.finish(rows, |r| r.name.clone()))
}

/// Repositories counted: all, those whose last check failed, paused ones.
pub async fn summary(db: impl PgExecutor<'_>) -> Result<RepositorySummary, RepositoryError> {
    Ok(sqlx::query_as::<_, RepositorySummary>(
        "select count(*) as total, \
           count(*) filter (where last_outcome = 'failed') as failing, \
           count(*) filter (where paused) as paused \
         from repository",
    )
    .fetch_one(db)
    .await?)
}

/// Repositories whose URL has this match key (webhooks).
pub async fn by_url_key(
    db: impl PgExecutor<'_>,
    key: &str,
) -> Result<Vec<RepositoryRow>, RepositoryError> {
    let sql = format!("select {COLUMNS} from repository r where r.url_key = $1");
    Ok(sqlx::query_as::<_, RepositoryRow>(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(db)
        .await?)
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, RepositoryError> {
    Ok(
        sqlx::query("delete from repository where repository_id = $1")
            .bind(id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Wakes every replica's poller.
pub async fn notify(db: impl PgExecutor<'_>) -> Result<(), RepositoryError> {
    sqlx::query("select pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(db)
        .await?;
    Ok(())
}

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

/// Every repository id (mirror clean-up).
pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, RepositoryError> {
    Ok(sqlx::query_scalar("select repository_id from repository")
        .fetch_all(db)
        .await?)
}
