//! SQL for stacks' tracking state and deployment events.
//!
//! Contract with the deployment engine (issue 6):
//! - change detection writes `stack.last_seen_commit`/`last_seen_trees` and inserts
//!   `deployment_event` rows (stack, exact commit, trigger, check) in the check's transaction;
//! - the engine claims unconsumed events (`consumed_at is null`, oldest first, `FOR UPDATE SKIP
//!   LOCKED`, see [`claim_events`]), turns each into a rollout and sets `consumed_at` in the same
//!   transaction; a newer event for the same stack supersedes older unconsumed ones;
//! - after a successful deployment it sets `stack.deployed_commit` ([`set_deployed`]).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::model::{Stack, StackSpec, StackSummary, StackTarget, SyncCounts, SyncState};
use super::{DeploymentEvent, TrackedStack};
use crate::deploy::{ObjectRef, Renderer};

/// A stack to insert (issue 6 creates stacks through its API; tests use this directly).
#[derive(Debug, Clone)]
pub struct NewStack {
    pub name: String,
    pub repository_id: Uuid,
    pub git_ref: String,
    pub paths: Vec<String>,
    pub watched_paths: Vec<String>,
    pub auto_deploy: bool,
}

const COLUMNS: &str = "stack_id, name, repository_id, ref, paths, watched_paths, paused, \
    auto_deploy, last_seen_commit, last_seen_trees, deployed_commit";

pub async fn insert(db: impl PgExecutor<'_>, s: &NewStack) -> Result<TrackedStack, sqlx::Error> {
    let sql = format!(
        "insert into stack (stack_id, name, repository_id, ref, paths, watched_paths, auto_deploy) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    );
    sqlx::query_as::<_, TrackedStack>(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(&s.name)
        .bind(s.repository_id)
        .bind(&s.git_ref)
        .bind(&s.paths)
        .bind(&s.watched_paths)
        .bind(s.auto_deploy)
        .fetch_one(db)
        .await
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<TrackedStack>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from stack where stack_id = $1");
    sqlx::query_as::<_, TrackedStack>(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Unpaused stacks tracking a repository.
pub async fn tracking(
    db: impl PgExecutor<'_>,
    repository_id: Uuid,
) -> Result<Vec<TrackedStack>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from stack where repository_id = $1 and not paused order by name"
    );
    sqlx::query_as::<_, TrackedStack>(sqlx::AssertSqlSafe(sql))
        .bind(repository_id)
        .fetch_all(db)
        .await
}

pub async fn count_for_repository(
    db: impl PgExecutor<'_>,
    repository_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from stack where repository_id = $1")
        .bind(repository_id)
        .fetch_one(db)
        .await
}

/// Deletes every stack of a repository (forced repository deletion).
pub async fn delete_for_repository(
    db: impl PgExecutor<'_>,
    repository_id: Uuid,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("delete from stack where repository_id = $1")
        .bind(repository_id)
        .execute(db)
        .await?
        .rows_affected())
}

pub async fn set_paused(
    db: impl PgExecutor<'_>,
    id: Uuid,
    paused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("update stack set paused = $2, updated_at = now() where stack_id = $1")
        .bind(id)
        .bind(paused)
        .execute(db)
        .await?;
    Ok(())
}

/// Records the commit change detection looked at, and the ids of the watched paths there.
pub async fn set_seen(
    db: impl PgExecutor<'_>,
    id: Uuid,
    commit: &str,
    trees: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update stack set last_seen_commit = $2, last_seen_trees = $3, updated_at = now() \
         where stack_id = $1",
    )
    .bind(id)
    .bind(commit)
    .bind(trees)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a successful deployment (called by the deployment engine).
pub async fn set_deployed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    commit: &str,
) -> Result<(), sqlx::Error> {
    // Every target's deployment of a rollout records the same commit: only the first writes
    // (and locks) the row.
    sqlx::query(
        "update stack set deployed_commit = $2, updated_at = now() \
         where stack_id = $1 and deployed_commit is distinct from $2",
    )
    .bind(id)
    .bind(commit)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn insert_event(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    commit: &str,
    trigger: &str,
    check_id: Option<Uuid>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into deployment_event (deployment_event_id, stack_id, commit, trigger, \
           repository_check_id) values ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(stack_id)
    .bind(commit)
    .bind(trigger)
    .bind(check_id)
    .execute(db)
    .await?;
    Ok(id)
}

const EVENT_COLUMNS: &str =
    "deployment_event_id, stack_id, commit, trigger, repository_check_id, created_at, consumed_at";

/// Events of a stack, newest first.
pub async fn events_for_stack(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
) -> Result<Vec<DeploymentEvent>, sqlx::Error> {
    let sql = format!(
        "select {EVENT_COLUMNS} from deployment_event where stack_id = $1 order by created_at desc"
    );
    sqlx::query_as::<_, DeploymentEvent>(sqlx::AssertSqlSafe(sql))
        .bind(stack_id)
        .fetch_all(db)
        .await
}

/// Claims up to `limit` unconsumed events, oldest first, marking them consumed; run it in the
/// transaction that creates the rollouts so a crash leaves them unconsumed.
pub async fn claim_events(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<DeploymentEvent>, sqlx::Error> {
    let sql = format!(
        "update deployment_event e set consumed_at = now() \
         from (select deployment_event_id from deployment_event where consumed_at is null \
               order by created_at limit $1 for update skip locked) due \
         where e.deployment_event_id = due.deployment_event_id returning e.{}",
        EVENT_COLUMNS.replace(", ", ", e.")
    );
    sqlx::query_as::<_, DeploymentEvent>(sqlx::AssertSqlSafe(sql))
        .bind(limit)
        .fetch_all(db)
        .await
}

// ---- stacks as the API manages them (issue 6) -------------------------------------------------

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

/// How many stacks are in each state (the overview).
pub async fn count_by_state(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let sql = format!(
        "select state, count(*) from (select {STACK_STATE_SQL} as state from stack s \
           left join lateral (select count(*) filter (where v.state = 'in_sync') as in_sync, \
             count(*) filter (where v.state = 'out_of_date') as out_of_date, \
             count(*) filter (where v.state = 'deploying') as deploying, \
             count(*) filter (where v.state = 'failed') as failed, \
             count(*) filter (where v.state = 'unknown') as unknown \
             from stack_target_state v where v.stack_id = s.stack_id) c on true) x \
         group by state"
    );
    sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
        .fetch_all(db)
        .await
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

// ---- targets ----------------------------------------------------------------------------------

const TARGET_COLUMNS: &str = "stack_id, stack_name, environment_id, environment_name, \
    environment_status, deployed_commit, latest_commit, state, last_deployment_id, \
    last_deployment_status, last_deployed_at, last_error, object_count";

#[derive(sqlx::FromRow)]
struct TargetRow {
    stack_id: Uuid,
    stack_name: String,
    environment_id: Uuid,
    environment_name: String,
    environment_status: String,
    deployed_commit: Option<String>,
    latest_commit: Option<String>,
    state: String,
    last_deployment_id: Option<Uuid>,
    last_deployment_status: Option<String>,
    last_deployed_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    object_count: i64,
}

impl From<TargetRow> for StackTarget {
    fn from(r: TargetRow) -> Self {
        StackTarget {
            stack_id: r.stack_id,
            stack_name: r.stack_name,
            environment_id: r.environment_id,
            environment_name: r.environment_name,
            environment_status: r.environment_status,
            deployed_commit: r.deployed_commit,
            latest_commit: r.latest_commit,
            state: SyncState::parse(&r.state).unwrap_or(SyncState::Unknown),
            last_deployment_id: r.last_deployment_id,
            last_deployment_status: r.last_deployment_status,
            last_deployed_at: r.last_deployed_at,
            last_error: r.last_error,
            object_count: r.object_count,
        }
    }
}

/// The targets of a stack, by environment name.
pub async fn targets(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
) -> Result<Vec<StackTarget>, sqlx::Error> {
    let sql = format!(
        "select {TARGET_COLUMNS} from stack_target_state where stack_id = $1 \
         order by environment_name"
    );
    let rows = sqlx::query_as::<_, TargetRow>(sqlx::AssertSqlSafe(sql))
        .bind(stack_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The stacks targeting an environment, by stack name.
pub async fn targets_of_environment(
    db: impl PgExecutor<'_>,
    environment_id: Uuid,
) -> Result<Vec<StackTarget>, sqlx::Error> {
    let sql = format!(
        "select {TARGET_COLUMNS} from stack_target_state where environment_id = $1 \
         order by stack_name"
    );
    let rows = sqlx::query_as::<_, TargetRow>(sqlx::AssertSqlSafe(sql))
        .bind(environment_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn count_targets_of_environment(
    db: impl PgExecutor<'_>,
    environment_id: Uuid,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from stack_target where environment_id = $1")
        .bind(environment_id)
        .fetch_one(db)
        .await
}

/// Makes the stack's targets exactly `environment_ids`; returns the environments that joined.
pub async fn set_targets(
    db: &mut sqlx::PgConnection,
    stack_id: Uuid,
    environment_ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query("delete from stack_target where stack_id = $1 and not (environment_id = any($2))")
        .bind(stack_id)
        .bind(environment_ids)
        .execute(&mut *db)
        .await?;
    sqlx::query_scalar(
        "insert into stack_target (stack_id, environment_id) \
         select $1, e from unnest($2::uuid[]) e \
         on conflict do nothing returning environment_id",
    )
    .bind(stack_id)
    .bind(environment_ids)
    .fetch_all(&mut *db)
    .await
}

/// Adds or removes one (stack, environment) target; true when it changed.
pub async fn set_target(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    environment_id: Uuid,
    targeted: bool,
) -> Result<bool, sqlx::Error> {
    let q = if targeted {
        "insert into stack_target (stack_id, environment_id) values ($1, $2) on conflict do nothing"
    } else {
        "delete from stack_target where stack_id = $1 and environment_id = $2"
    };
    Ok(sqlx::query(q)
        .bind(stack_id)
        .bind(environment_id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// A target's prune inventory.
pub async fn inventory(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    environment_id: Uuid,
) -> Result<Option<Vec<ObjectRef>>, sqlx::Error> {
    let v: Option<serde_json::Value> = sqlx::query_scalar(
        "select inventory from stack_target where stack_id = $1 and environment_id = $2",
    )
    .bind(stack_id)
    .bind(environment_id)
    .fetch_optional(db)
    .await?;
    Ok(v.map(|v| serde_json::from_value(v).unwrap_or_default()))
}

/// The environment ids and tags every target computation starts from.
pub async fn environment_tags(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(Uuid, serde_json::Value)>, sqlx::Error> {
    sqlx::query_as("select environment_id, tags from environment")
        .fetch_all(db)
        .await
}

/// Stacks whose targets could involve any environment (selector) or name one explicitly.
pub async fn targeting_rules(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(Uuid, Vec<Uuid>, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "select stack_id, target_environment_ids, target_selector from stack where not deleting",
    )
    .fetch_all(db)
    .await
}
