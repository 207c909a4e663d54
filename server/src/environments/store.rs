//! SQL for environments. The only place environment SQL lives.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::kubeconfig::AuthKind;
use super::probe::Report;
use super::selector::Requirement;
use super::{
    CERT_EXPIRY_WARNING_DAYS, EnvError, Environment, EnvironmentSummary, Permissions, Selector,
    Status,
};
use crate::pagination::{Page, PageRequest};

#[derive(sqlx::FromRow)]
struct Row {
    environment_id: Uuid,
    name: String,
    tags: sqlx::types::Json<BTreeMap<String, String>>,
    default_namespace: String,
    server_url: String,
    context_name: String,
    auth_kind: String,
    ca_fingerprint: Option<String>,
    client_cert_expires_at: Option<DateTime<Utc>>,
    insecure_skip_tls_verify: bool,
    credential_version: i32,
    permissions: sqlx::types::Json<Permissions>,
    status: String,
    kubernetes_version: Option<String>,
    node_count: Option<i32>,
    probe_latency_ms: Option<i32>,
    last_error: Option<String>,
    last_probe_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "environment_id, name, tags, default_namespace, server_url, context_name, \
    auth_kind, ca_fingerprint, client_cert_expires_at, insecure_skip_tls_verify, credential_version, \
    permissions, status, kubernetes_version, node_count, probe_latency_ms, last_error, last_probe_at, \
    last_seen_at, created_at, updated_at";

impl From<Row> for Environment {
    fn from(r: Row) -> Self {
        let expiring = r
            .client_cert_expires_at
            .is_some_and(|t| t < Utc::now() + chrono::Duration::days(CERT_EXPIRY_WARNING_DAYS));
        Environment {
            id: r.environment_id,
            name: r.name,
            tags: r.tags.0,
            default_namespace: r.default_namespace,
            server_url: r.server_url,
            context: r.context_name,
            auth_kind: AuthKind::parse(&r.auth_kind).unwrap_or(AuthKind::None),
            ca_fingerprint: r.ca_fingerprint,
            client_certificate_expires_at: r.client_cert_expires_at,
            client_certificate_expiring: expiring,
            insecure_skip_tls_verify: r.insecure_skip_tls_verify,
            permissions: r.permissions.0,
            status: Status::parse(&r.status).unwrap_or(Status::Unknown),
            kubernetes_version: r.kubernetes_version,
            node_count: r.node_count,
            probe_latency_ms: r.probe_latency_ms,
            last_error: r.last_error,
            last_probe_at: r.last_probe_at,
            last_seen_at: r.last_seen_at,
            credential_version: r.credential_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

fn conflict(e: sqlx::Error) -> EnvError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => EnvError::Conflict {
            field: "name".into(),
        },
        _ => EnvError::Database(e),
    }
}

/// Credentials and what was learnt about them, written at registration and rotation.
pub struct Credentials<'a> {
    pub server_url: &'a str,
    pub context: &'a str,
    pub auth_kind: AuthKind,
    pub ca_fingerprint: Option<&'a str>,
    pub client_cert_expires_at: Option<DateTime<Utc>>,
    pub insecure_skip_tls_verify: bool,
    pub sealed_kubeconfig: &'a [u8],
    pub permissions: &'a Permissions,
    pub report: &'a Report,
}

pub struct NewRow<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub tags: &'a BTreeMap<String, String>,
    pub default_namespace: &'a str,
    pub credentials: Credentials<'a>,
    /// The registration just probed the cluster: the next probe is one interval away.
    pub next_probe_in: std::time::Duration,
}

pub async fn insert(db: impl PgExecutor<'_>, n: &NewRow<'_>) -> Result<Environment, EnvError> {
    let c = &n.credentials;
    let sql = format!(
        "insert into environment (environment_id, name, tags, default_namespace, server_url, \
           context_name, auth_kind, ca_fingerprint, client_cert_expires_at, insecure_skip_tls_verify, \
           sealed_kubeconfig, permissions, status, kubernetes_version, node_count, probe_latency_ms, \
           last_error, last_probe_at, last_seen_at, next_probe_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, now(), \
           case when $18 then now() end, now() + make_interval(secs => $19)) \
         returning {COLUMNS}"
    );
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(n.id)
        .bind(n.name)
        .bind(sqlx::types::Json(n.tags))
        .bind(n.default_namespace)
        .bind(c.server_url)
        .bind(c.context)
        .bind(c.auth_kind.as_str())
        .bind(c.ca_fingerprint)
        .bind(c.client_cert_expires_at)
        .bind(c.insecure_skip_tls_verify)
        .bind(c.sealed_kubeconfig)
        .bind(sqlx::types::Json(c.permissions))
        .bind(c.report.status.as_str())
        .bind(c.report.kubernetes_version.as_deref())
        .bind(c.report.node_count)
        .bind(c.report.latency_ms)
        .bind(c.report.error.as_deref())
        .bind(c.report.seen)
        .bind(n.next_probe_in.as_secs_f64())
        .fetch_one(db)
        .await
        .map(Environment::from)
        .map_err(conflict)
}

/// Replaces the credentials and bumps the credential version.
pub async fn rotate(
    db: impl PgExecutor<'_>,
    id: Uuid,
    c: &Credentials<'_>,
) -> Result<Option<Environment>, EnvError> {
    let sql = format!(
        "update environment set server_url = $2, context_name = $3, auth_kind = $4, \
           ca_fingerprint = $5, client_cert_expires_at = $6, insecure_skip_tls_verify = $7, \
           sealed_kubeconfig = $8, permissions = $9, status = $10, kubernetes_version = $11, \
           node_count = $12, probe_latency_ms = $13, last_error = $14, last_probe_at = now(), \
           last_seen_at = case when $15 then now() else last_seen_at end, \
           credential_version = credential_version + 1, updated_at = now(), next_probe_at = now() \
         where environment_id = $1 returning {COLUMNS}"
    );
    Ok(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(c.server_url)
        .bind(c.context)
        .bind(c.auth_kind.as_str())
        .bind(c.ca_fingerprint)
        .bind(c.client_cert_expires_at)
        .bind(c.insecure_skip_tls_verify)
        .bind(c.sealed_kubeconfig)
        .bind(sqlx::types::Json(c.permissions))
        .bind(c.report.status.as_str())
        .bind(c.report.kubernetes_version.as_deref())
        .bind(c.report.node_count)
        .bind(c.report.latency_ms)
        .bind(c.report.error.as_deref())
        .bind(c.report.seen)
        .fetch_optional(db)
        .await?
        .map(Environment::from))
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Environment>, EnvError> {
    let sql = format!("select {COLUMNS} from environment where environment_id = $1");
    Ok(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(Environment::from))
}

/// Environments counted by status, with expiring client certificates and unverified TLS.
pub async fn summary(db: impl PgExecutor<'_>) -> Result<EnvironmentSummary, EnvError> {
    Ok(sqlx::query_as::<_, EnvironmentSummary>(
        "select count(*) as total, \
           count(*) filter (where status = 'up') as up, \
           count(*) filter (where status = 'down') as down, \
           count(*) filter (where status = 'unauthorized') as unauthorized, \
           count(*) filter (where status = 'unknown') as unknown, \
           count(*) filter (where client_cert_expires_at < now() + make_interval(days => $1)) \
             as certificates_expiring, \
           count(*) filter (where insecure_skip_tls_verify) as insecure \
         from environment",
    )
    .bind(i32::try_from(CERT_EXPIRY_WARNING_DAYS).unwrap_or(30))
    .fetch_one(db)
    .await?)
}

pub async fn get_by_name(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<Environment>, EnvError> {
    let sql = format!("select {COLUMNS} from environment where name = $1");
    Ok(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(db)
        .await?
        .map(Environment::from))
}

/// The sealed kubeconfig and its version.
pub async fn sealed(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<(Vec<u8>, i32)>, EnvError> {
    Ok(sqlx::query_as(
        "select sealed_kubeconfig, credential_version from environment where environment_id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// List filters.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub selector: Selector,
    pub status: Option<Status>,
    /// Part of the name.
    pub search: Option<String>,
}

/// Ordered by name; the cursor is the last name. Equality and existence requirements of the
/// selector use the GIN index on `tags`; the others are checked on the rows it leaves.
pub async fn list(
    db: impl PgExecutor<'_>,
    f: &Filter,
    page: &PageRequest<String>,
) -> Result<Page<Environment>, EnvError> {
    // Only the conditions in use are sent, as plain SQL over binds: the planner sees each
    // statement's real shape (walking the name index for `order by name limit`, or the tags GIN
    // index for a narrow selector) instead of one generic plan full of `$n is null or …`.
    let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(format!(
        "select {COLUMNS} from environment e where true"
    ));
    if let Some(after) = &page.after {
        q.push(" and name > ").push_bind(after.clone());
    }
    if let Some(status) = f.status {
        q.push(" and status = ").push_bind(status.as_str());
    }
    if let Some(search) = &f.search {
        let escaped = search
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        q.push(" and name ilike ").push_bind(format!("%{escaped}%"));
    }
    push_selector(&mut q, &f.selector);
    q.push(" order by name limit ")
        .push_bind(page.fetch_limit());
    let rows: Vec<Row> = q.build_query_as().fetch_all(db).await?;
    let items: Vec<Environment> = rows.into_iter().map(Environment::from).collect();
    Ok(page.finish(items, |e| e.name.clone()))
}

/// A tag selector as SQL conditions on `e.tags`: equalities and required keys in the forms the
/// GIN index serves (`@>`, `?&`), the rest as direct comparisons.
fn push_selector(q: &mut sqlx::QueryBuilder<sqlx::Postgres>, selector: &Selector) {
    let mut eq = serde_json::Map::new();
    let mut keys: Vec<String> = Vec::new();
    for r in &selector.0 {
        match r {
            Requirement::Equals(k, v) => {
                if eq.get(k).is_some_and(|prev| prev != v) {
                    // k=a,k=b can never match.
                    q.push(" and false");
                }
                eq.insert(k.clone(), serde_json::Value::String(v.clone()));
            }
            Requirement::Exists(k) => keys.push(k.clone()),
            Requirement::In(k, vs) => {
                keys.push(k.clone());
                q.push(" and e.tags->>")
                    .push_bind(k.clone())
                    .push(" = any(")
                    .push_bind(vs.clone())
                    .push(")");
            }
            Requirement::NotIn(k, vs) => {
                q.push(" and coalesce(e.tags->>")
                    .push_bind(k.clone())
                    .push(" <> all(")
                    .push_bind(vs.clone())
                    .push("), true)");
            }
            Requirement::NotEquals(k, v) => {
                q.push(" and coalesce(e.tags->>")
                    .push_bind(k.clone())
                    .push(" <> ")
                    .push_bind(v.clone())
                    .push(", true)");
            }
            Requirement::NotExists(k) => {
                q.push(" and not (e.tags ? ").push_bind(k.clone()).push(")");
            }
        }
    }
    if !eq.is_empty() {
        q.push(" and e.tags @> ")
            .push_bind(serde_json::Value::Object(eq))
            .push("::jsonb");
    }
    if !keys.is_empty() {
        q.push(" and e.tags ?& ").push_bind(keys).push("::text[]");
    }
}

/// Changes name, tags and default namespace (those given).
pub async fn update(
    db: impl PgExecutor<'_>,
    id: Uuid,
    name: Option<&str>,
    tags: Option<&BTreeMap<String, String>>,
    default_namespace: Option<&str>,
) -> Result<Option<Environment>, EnvError> {
    let sql = format!(
        "update environment set name = coalesce($2, name), tags = coalesce($3, tags), \
           default_namespace = coalesce($4, default_namespace), updated_at = now() \
         where environment_id = $1 returning {COLUMNS}"
    );
    Ok(sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(name)
        .bind(tags.map(sqlx::types::Json))
        .bind(default_namespace)
        .fetch_optional(db)
        .await
        .map_err(conflict)?
        .map(Environment::from))
}

/// Deletes the row; a row still referenced (by stack targets, once they exist) is `InUse`.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, EnvError> {
    let done = sqlx::query("delete from environment where environment_id = $1")
        .bind(id)
        .execute(db)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => EnvError::InUse {
                message: "stacks target this environment; delete with force=true to remove \
                          them from those stacks"
                    .into(),
            },
            _ => EnvError::Database(e),
        })?;
    Ok(done.rows_affected() == 1)
}

/// An environment claimed for probing.
#[derive(sqlx::FromRow)]
pub struct ProbeTarget {
    pub environment_id: Uuid,
    pub name: String,
    pub default_namespace: String,
    pub credential_version: i32,
    pub sealed_kubeconfig: Vec<u8>,
    pub permissions: sqlx::types::Json<Permissions>,
    pub status: String,
    pub client_cert_expires_at: Option<DateTime<Utc>>,
}

/// Claims up to `limit` environments due for a probe, moving their `next_probe_at` one interval
/// ahead so no other replica claims them in this round.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    limit: i64,
    interval: std::time::Duration,
) -> Result<Vec<ProbeTarget>, EnvError> {
    let secs = interval.as_secs_f64();
    Ok(sqlx::query_as::<_, ProbeTarget>(
        "update environment e set next_probe_at = now() + make_interval(secs => $2) \
         from (select environment_id from environment where next_probe_at <= now() \
               order by next_probe_at limit $1 for update skip locked) due \
         where e.environment_id = due.environment_id \
         returning e.environment_id, e.name, e.default_namespace, e.credential_version, \
           e.sealed_kubeconfig, e.permissions, e.status, e.client_cert_expires_at",
    )
    .bind(limit)
    .bind(secs)
    .fetch_all(db)
    .await?)
}

/// Records a probe unless the credentials changed meanwhile; returns the previous status when
/// the row was updated.
pub async fn record_probe(
    db: impl PgExecutor<'_>,
    id: Uuid,
    version: i32,
    r: &Report,
) -> Result<Option<String>, EnvError> {
    Ok(sqlx::query_scalar(
        "with old as (select environment_id, status from environment \
                      where environment_id = $1 and credential_version = $2 for update) \
         update environment e set status = $3, \
           kubernetes_version = coalesce($4, e.kubernetes_version), \
           node_count = case when $3 = 'up' then $5 else e.node_count end, \
           probe_latency_ms = $6, last_error = $7, last_probe_at = now(), \
           last_seen_at = case when $8 then now() else e.last_seen_at end, \
           permissions = coalesce($9, e.permissions) \
         from old where e.environment_id = old.environment_id \
         returning old.status",
    )
    .bind(id)
    .bind(version)
    .bind(r.status.as_str())
    .bind(r.kubernetes_version.as_deref())
    .bind(r.node_count)
    .bind(r.latency_ms)
    .bind(r.error.as_deref())
    .bind(r.seen)
    .bind(r.permissions.as_ref().map(sqlx::types::Json))
    .fetch_optional(db)
    .await?)
}
