//! SQL for repositories, their refs and checks. The only place repository SQL lives: repositories
//! here, checks (queueing, claiming, leases, outcomes) in `checks.rs`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::schedule::Schedule;
use super::url::UrlScheme;
use super::{AuthKind, Repository, RepositoryError, RepositoryStatus, RepositorySummary};
use crate::pagination::{Page, PageRequest};

mod checks;

pub use checks::*;

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

/// Every repository id (mirror clean-up).
pub async fn all_ids(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, RepositoryError> {
    Ok(sqlx::query_scalar("select repository_id from repository")
        .fetch_all(db)
        .await?)
}
