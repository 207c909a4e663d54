//! SQL for stacks. The only place stack SQL lives: stacks as the API manages them here, change
//! detection's tracking state and deployment events in `tracking.rs`, targets in `targets.rs`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::model::{Stack, StackSpec, StackSummary, SyncCounts, SyncState};
use crate::deploy::Renderer;

mod targets;
mod tracking;

pub use targets::*;
pub use tracking::*;

/// The columns of a stack row the service and the engine read.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StackRow {
    pub stack_id: Uuid,
    pub name: String,
    pub repository_id: Uuid,
    pub repository_name: String,
    #[sqlx(rename = "ref")]
    pub git_ref: String,
    pub paths: Vec<String>,
    pub watched_paths: Vec<String>,
    pub renderer: String,
    pub target_environment_ids: Vec<Uuid>,
    pub target_selector: Option<String>,
    pub default_namespace: Option<String>,
    pub create_namespace: bool,
    pub auto_deploy: bool,
    pub prune: bool,
    pub wait_for_health: bool,
    pub health_timeout_seconds: i32,
    pub force_conflicts: bool,
    pub paused: bool,
    pub rollback_hold_commit: Option<String>,
    pub latest_commit: Option<String>,
    pub last_seen_commit: Option<String>,
    pub deployed_commit: Option<String>,
    pub deleting: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub in_sync: i64,
    pub out_of_date: i64,
    pub deploying: i64,
    pub failed: i64,
    pub unknown: i64,
}

impl StackRow {
    pub fn renderer(&self) -> Renderer {
        if self.renderer == "kustomize" {
            Renderer::Kustomize
        } else {
            Renderer::Plain
        }
    }

    pub fn into_stack(self) -> Stack {
        let counts = SyncCounts {
            in_sync: self.in_sync,
            out_of_date: self.out_of_date,
            deploying: self.deploying,
            failed: self.failed,
            unknown: self.unknown,
        };
        let total = counts.in_sync + counts.out_of_date + counts.deploying + counts.failed;
        let sync_state = if counts.failed > 0 {
            SyncState::Failed
        } else if counts.deploying > 0 {
            SyncState::Deploying
        } else if counts.out_of_date > 0 {
            SyncState::OutOfDate
        } else if counts.unknown > 0 || total == 0 {
            SyncState::Unknown
        } else {
            SyncState::InSync
        };
        Stack {
            renderer: self.renderer(),
            id: self.stack_id,
            name: self.name,
            repository_id: self.repository_id,
            repository_name: self.repository_name,
            git_ref: self.git_ref,
            paths: self.paths,
            watched_paths: self.watched_paths,
            environment_ids: self.target_environment_ids,
            selector: self.target_selector,
            default_namespace: self.default_namespace,
            create_namespace: self.create_namespace,
            auto_deploy: self.auto_deploy,
            prune: self.prune,
            wait_for_health: self.wait_for_health,
            health_timeout_seconds: self.health_timeout_seconds,
            force_conflicts: self.force_conflicts,
            paused: self.paused,
            rollback_hold_commit: self.rollback_hold_commit,
            latest_commit: self.latest_commit,
            last_seen_commit: self.last_seen_commit,
            deployed_commit: self.deployed_commit,
            deleting: self.deleting,
            sync_state,
            targets: counts,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A stack with its repository's name and its targets' states counted.
const STACK_SELECT: &str = "select s.stack_id, s.name, s.repository_id, r.name as repository_name, \
    s.ref, s.paths, s.watched_paths, s.renderer, s.target_environment_ids, s.target_selector, \
    s.default_namespace, s.create_namespace, s.auto_deploy, s.prune, s.wait_for_health, \
    s.health_timeout_seconds, s.force_conflicts, s.paused, s.rollback_hold_commit, \
    s.latest_commit, s.last_seen_commit, s.deployed_commit, s.deleting, s.created_at, \
    s.updated_at, \
    coalesce(c.in_sync, 0) as in_sync, coalesce(c.out_of_date, 0) as out_of_date, \
    coalesce(c.deploying, 0) as deploying, coalesce(c.failed, 0) as failed, \
    coalesce(c.unknown, 0) as unknown \
    from stack s join repository r on r.repository_id = s.repository_id \
    left join lateral (select count(*) filter (where v.state = 'in_sync') as in_sync, \
        count(*) filter (where v.state = 'out_of_date') as out_of_date, \
        count(*) filter (where v.state = 'deploying') as deploying, \
        count(*) filter (where v.state = 'failed') as failed, \
        count(*) filter (where v.state = 'unknown') as unknown \
        from stack_target_state v where v.stack_id = s.stack_id) c on true";

/// The stack-level state as SQL over the counts above (worst first).
const STACK_STATE_SQL: &str = "case when coalesce(c.failed, 0) > 0 then 'failed' \
    when coalesce(c.deploying, 0) > 0 then 'deploying' \
    when coalesce(c.out_of_date, 0) > 0 then 'out_of_date' \
    when coalesce(c.unknown, 0) > 0 or coalesce(c.in_sync, 0) = 0 then 'unknown' \
    else 'in_sync' end";

pub async fn insert_spec(
    db: impl PgExecutor<'_>,
    id: Uuid,
    s: &StackSpec,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into stack (stack_id, name, repository_id, ref, paths, watched_paths, renderer, \
           target_environment_ids, target_selector, default_namespace, create_namespace, \
           auto_deploy, prune, wait_for_health, health_timeout_seconds, force_conflicts, paused) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(id)
    .bind(&s.name)
    .bind(s.repository_id)
    .bind(&s.git_ref)
    .bind(&s.paths)
    .bind(&s.watched_paths)
    .bind(renderer_str(s.renderer))
    .bind(&s.environment_ids)
    .bind(&s.selector)
    .bind(&s.default_namespace)
    .bind(s.create_namespace)
    .bind(s.auto_deploy)
    .bind(s.prune)
    .bind(s.wait_for_health)
    .bind(s.health_timeout_seconds)
    .bind(s.force_conflicts)
    .bind(s.paused)
    .execute(db)
    .await?;
    Ok(())
}

/// Replaces every user-set field. A changed ref or paths forgets what change detection saw, so
/// the next check compares afresh.
pub async fn update_spec(
    db: impl PgExecutor<'_>,
    id: Uuid,
    s: &StackSpec,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update stack set name = $2, ref = $3, paths = $4, watched_paths = $5, renderer = $6, \
           target_environment_ids = $7, target_selector = $8, default_namespace = $9, \
           create_namespace = $10, auto_deploy = $11, prune = $12, wait_for_health = $13, \
           health_timeout_seconds = $14, force_conflicts = $15, paused = $16, \
           last_seen_commit = case when ref = $3 and paths = $4 and watched_paths = $5 \
             then last_seen_commit end, \
           last_seen_trees = case when ref = $3 and paths = $4 and watched_paths = $5 \
             then last_seen_trees end, \
           updated_at = now() \
         where stack_id = $1",
    )
    .bind(id)
    .bind(&s.name)
    .bind(&s.git_ref)
    .bind(&s.paths)
    .bind(&s.watched_paths)
    .bind(renderer_str(s.renderer))
    .bind(&s.environment_ids)
    .bind(&s.selector)
    .bind(&s.default_namespace)
    .bind(s.create_namespace)
    .bind(s.auto_deploy)
    .bind(s.prune)
    .bind(s.wait_for_health)
    .bind(s.health_timeout_seconds)
    .bind(s.force_conflicts)
    .bind(s.paused)
    .execute(db)
    .await?;
    Ok(())
}

fn renderer_str(r: Renderer) -> &'static str {
    match r {
        Renderer::Plain => "plain",
        Renderer::Kustomize => "kustomize",
    }
}

pub async fn get_row(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StackRow>, sqlx::Error> {
    let sql = format!("{STACK_SELECT} where s.stack_id = $1");
    sqlx::query_as::<_, StackRow>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn get_row_by_name(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<StackRow>, sqlx::Error> {
    let sql = format!("{STACK_SELECT} where s.name = $1");
    sqlx::query_as::<_, StackRow>(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Locks a stack row for the rest of the transaction (serialises changes to one stack).
pub async fn lock(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Uuid>("select stack_id from stack where stack_id = $1 for update")
            .bind(id)
            .fetch_optional(db)
            .await?
            .is_some(),
    )
}

/// Filters of the stack list.
#[derive(Debug, Clone, Default)]
pub struct StackFilter {
    pub search: Option<String>,
    pub repository_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    pub state: Option<SyncState>,
}

/// Stacks ordered by name, after `after` (keyset).
pub async fn list_rows(
    db: impl PgExecutor<'_>,
    f: &StackFilter,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<StackRow>, sqlx::Error> {
    let sql = format!(
        "select * from ({STACK_SELECT} \
           where ($1::text is null or s.name > $1) \
             and ($2::text is null or s.name ilike '%' || $2 || '%') \
             and ($3::uuid is null or s.repository_id = $3) \
             and ($4::uuid is null or exists (select 1 from stack_target t \
                  where t.stack_id = s.stack_id and t.environment_id = $4)) \
             and ($5::text is null or {STACK_STATE_SQL} = $5) \
           order by s.name limit $6) page order by name"
    );
    sqlx::query_as::<_, StackRow>(sqlx::AssertSqlSafe(sql))
        .bind(after)
        .bind(f.search.as_deref().map(escape_like))
        .bind(f.repository_id)
        .bind(f.environment_id)
        .bind(f.state.map(SyncState::as_str))
        .bind(limit)
        .fetch_all(db)
        .await
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Stacks by state, and how many are paused (the overview), in one pass.
pub async fn summary(db: impl PgExecutor<'_>) -> Result<StackSummary, sqlx::Error> {
    let sql = format!(
        "select count(*) as total, \
           count(*) filter (where state = 'in_sync') as in_sync, \
           count(*) filter (where state = 'out_of_date') as out_of_date, \
           count(*) filter (where state = 'deploying') as deploying, \
           count(*) filter (where state = 'failed') as failed, \
           count(*) filter (where state = 'unknown') as unknown, \
           count(*) filter (where paused) as paused \
         from (select s.paused, {STACK_STATE_SQL} as state from stack s \
           left join lateral (select count(*) filter (where v.state = 'in_sync') as in_sync, \
             count(*) filter (where v.state = 'out_of_date') as out_of_date, \
             count(*) filter (where v.state = 'deploying') as deploying, \
             count(*) filter (where v.state = 'failed') as failed, \
             count(*) filter (where v.state = 'unknown') as unknown \
             from stack_target_state v where v.stack_id = s.stack_id) c on true) x"
    );
    sqlx::query_as::<_, StackSummary>(sqlx::AssertSqlSafe(sql))
        .fetch_one(db)
        .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from stack where stack_id = $1")
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

pub async fn set_deleting(db: impl PgExecutor<'_>, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("update stack set deleting = true, updated_at = now() where stack_id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Sets (or clears, with `None`) the rollback hold.
pub async fn set_hold(
    db: impl PgExecutor<'_>,
    id: Uuid,
    commit: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update stack set rollback_hold_commit = $2, updated_at = now() where stack_id = $1",
    )
    .bind(id)
    .bind(commit)
    .execute(db)
    .await?;
    Ok(())
}

/// Records the newest content commit (change detection found the watched paths changed).
pub async fn set_latest(
    db: impl PgExecutor<'_>,
    id: Uuid,
    commit: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update stack set latest_commit = $2, updated_at = now() where stack_id = $1")
        .bind(id)
        .bind(commit)
        .execute(db)
        .await?;
    Ok(())
}
