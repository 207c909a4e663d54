//! SQL for reading history: rollouts with their deployment counts, deployments, per-object results,
//! and the questions a rollback or a stack's removal asks of them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::pagination::{Page, PageRequest};
use crate::rollouts::{Deployment, DeploymentCounts, DeploymentObject, Rollout, RolloutSummary};

const ROLLOUT_COLUMNS: &str = "r.rollout_id, r.stack_id, r.stack_name, r.commit, r.trigger, \
    r.actor, r.deployment_event_id, r.status, r.created_at, r.finished_at";

#[derive(sqlx::FromRow)]
struct RolloutRow {
    #[sqlx(flatten)]
    rollout: Rollout,
    total: i64,
    queued: i64,
    running: i64,
    succeeded: i64,
    failed: i64,
    superseded: i64,
}

impl From<RolloutRow> for Rollout {
    fn from(r: RolloutRow) -> Self {
        let mut rollout = r.rollout;
        rollout.deployments = DeploymentCounts {
            total: r.total,
            queued: r.queued,
            running: r.running,
            succeeded: r.succeeded,
            failed: r.failed,
            superseded: r.superseded,
        };
        rollout
    }
}

fn rollout_select() -> String {
    format!(
        "select {ROLLOUT_COLUMNS}, c.total, c.queued, c.running, c.succeeded, c.failed, \
           c.superseded from rollout r \
         cross join lateral (select count(*) as total, \
           count(*) filter (where status = 'queued') as queued, \
           count(*) filter (where status = 'running') as running, \
           count(*) filter (where status = 'succeeded') as succeeded, \
           count(*) filter (where status = 'failed') as failed, \
           count(*) filter (where status = 'superseded') as superseded \
           from deployment d where d.rollout_id = r.rollout_id) c"
    )
}

/// Filters of the rollout list.
#[derive(Debug, Clone, Default)]
pub struct RolloutFilter {
    pub stack_id: Option<Uuid>,
    pub status: Option<String>,
    pub trigger: Option<String>,
    pub deployment_event_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    /// Only rollouts still queued or running.
    pub active: bool,
}

pub async fn list_rollouts(
    db: impl PgExecutor<'_>,
    f: &RolloutFilter,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Page<Rollout>, sqlx::Error> {
    let sql = format!(
        "{} where ($1::uuid is null or r.stack_id = $1) \
           and ($2::text is null or r.status = $2) \
           and ($3::text is null or r.trigger = $3) \
           and ($4::uuid is null or r.deployment_event_id = $4) \
           and ($5::uuid is null or exists (select 1 from deployment x \
                where x.rollout_id = r.rollout_id and x.environment_id = $5)) \
           and (not $6 or r.status in ('queued', 'running')) \
           and ($7::timestamptz is null or (r.created_at, r.rollout_id) < ($7, $8)) \
         order by r.created_at desc, r.rollout_id desc limit $9",
        rollout_select()
    );
    let rows = sqlx::query_as::<_, RolloutRow>(sqlx::AssertSqlSafe(sql))
        .bind(f.stack_id)
        .bind(f.status.as_deref())
        .bind(f.trigger.as_deref())
        .bind(f.deployment_event_id)
        .bind(f.environment_id)
        .bind(f.active)
        .bind(page.after.map(|a| a.0))
        .bind(page.after.map(|a| a.1))
        .bind(page.fetch_limit())
        .fetch_all(db)
        .await?;
    let items: Vec<Rollout> = rows.into_iter().map(Into::into).collect();
    Ok(page.finish(items, |r| (r.created_at, r.id)))
}

/// Rollouts in progress and recently failed (the overview).
pub async fn summary(db: impl PgExecutor<'_>) -> Result<RolloutSummary, sqlx::Error> {
    sqlx::query_as::<_, RolloutSummary>(
        "select count(*) filter (where status in ('queued', 'running')) as in_progress, \
           count(*) filter (where status in ('failed', 'partial') \
             and finished_at > now() - interval '24 hours') as failed_last_day \
         from rollout",
    )
    .fetch_one(db)
    .await
}

pub async fn get_rollout(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Rollout>, sqlx::Error> {
    let sql = format!("{} where r.rollout_id = $1", rollout_select());
    Ok(sqlx::query_as::<_, RolloutRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(Into::into))
}

const DEPLOYMENT_SELECT: &str = "select d.deployment_id, d.rollout_id, d.stack_id, r.stack_name, \
    d.environment_id, d.environment_name, d.commit, d.kind, r.trigger, r.actor, d.status, \
    d.attempts, d.next_attempt_at, d.superseded_by, d.error_phase, d.error, d.object_count, \
    d.created_at, d.started_at, d.finished_at \
    from deployment d join rollout r on r.rollout_id = d.rollout_id";

/// Filters of the deployment list.
#[derive(Debug, Clone, Default)]
pub struct DeploymentFilter {
    pub rollout_id: Option<Uuid>,
    pub stack_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    pub status: Option<String>,
}

pub async fn list_deployments(
    db: impl PgExecutor<'_>,
    f: &DeploymentFilter,
    page: &PageRequest<(DateTime<Utc>, Uuid)>,
) -> Result<Page<Deployment>, sqlx::Error> {
    let sql = format!(
        "{DEPLOYMENT_SELECT} where ($1::uuid is null or d.rollout_id = $1) \
           and ($2::uuid is null or d.stack_id = $2) \
           and ($3::uuid is null or d.environment_id = $3) \
           and ($4::text is null or d.status = $4) \
           and ($5::timestamptz is null or (d.created_at, d.deployment_id) < ($5, $6)) \
         order by d.created_at desc, d.deployment_id desc limit $7"
    );
    let rows = sqlx::query_as::<_, Deployment>(sqlx::AssertSqlSafe(sql))
        .bind(f.rollout_id)
        .bind(f.stack_id)
        .bind(f.environment_id)
        .bind(f.status.as_deref())
        .bind(page.after.map(|a| a.0))
        .bind(page.after.map(|a| a.1))
        .bind(page.fetch_limit())
        .fetch_all(db)
        .await?;
    Ok(page.finish(rows, |d| (d.created_at, d.id)))
}

pub async fn get_deployment(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<Deployment>, sqlx::Error> {
    let sql = format!("{DEPLOYMENT_SELECT} where d.deployment_id = $1");
    sqlx::query_as::<_, Deployment>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Deployments of a rollout, by environment name.
pub async fn deployments_of_rollout(
    db: impl PgExecutor<'_>,
    rollout_id: Uuid,
) -> Result<Vec<Deployment>, sqlx::Error> {
    let sql = format!("{DEPLOYMENT_SELECT} where d.rollout_id = $1 order by d.environment_name");
    sqlx::query_as::<_, Deployment>(sqlx::AssertSqlSafe(sql))
        .bind(rollout_id)
        .fetch_all(db)
        .await
}

/// Filters of a deployment's object results.
#[derive(Debug, Clone, Default)]
pub struct ObjectFilter {
    pub action: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    /// Part of the name.
    pub search: Option<String>,
}

/// A deployment's per-object results in apply order, after `after` (keyset on `seq`).
pub async fn objects(
    db: impl PgExecutor<'_>,
    id: Uuid,
    f: &ObjectFilter,
    page: &PageRequest<i32>,
) -> Result<Page<DeploymentObject>, sqlx::Error> {
    let rows = sqlx::query_as::<_, DeploymentObject>(
        "select seq, api_group, api_version, kind, namespace, name, action, message \
         from deployment_object where deployment_id = $1 \
           and ($2::text is null or action = $2) and ($3::text is null or kind = $3) \
           and ($4::text is null or namespace = $4) \
           and ($5::text is null or strpos(name, $5) > 0) \
           and ($6::int is null or seq > $6) \
         order by seq limit $7",
    )
    .bind(id)
    .bind(f.action.as_deref())
    .bind(f.kind.as_deref())
    .bind(f.namespace.as_deref())
    .bind(f.search.as_deref())
    .bind(page.after)
    .bind(page.fetch_limit())
    .fetch_all(db)
    .await?;
    Ok(page.finish(rows, |o| o.seq))
}

/// The commit of a successful apply deployment of a stack (a rollback's target).
pub async fn successful_commit(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    deployment_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select commit from deployment where deployment_id = $1 and stack_id = $2 \
           and status = 'succeeded' and kind = 'apply'",
    )
    .bind(deployment_id)
    .bind(stack_id)
    .fetch_optional(db)
    .await
}

/// Whether the stack ever deployed `commit` successfully.
pub async fn ever_succeeded(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    commit: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from deployment where stack_id = $1 and commit = $2 \
           and status = 'succeeded' and kind = 'apply')",
    )
    .bind(stack_id)
    .bind(commit)
    .fetch_one(db)
    .await
}

/// Rollouts of `trigger` for a stack that are finished: used to finish a stack's removal.
pub async fn removal_succeeded(
    db: impl PgExecutor<'_>,
    rollout_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select stack_id from rollout where rollout_id = $1 and trigger = 'removal' \
           and status = 'succeeded'",
    )
    .bind(rollout_id)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}
