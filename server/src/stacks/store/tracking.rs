//! SQL for stacks' tracking state and deployment events.
//!
//! Contract with the deployment engine (issue 6):
//! - change detection writes `stack.last_seen_commit`/`last_seen_trees` and inserts
//!   `deployment_event` rows (stack, exact commit, trigger, check) in the check's transaction;
//! - the engine claims unconsumed events (`consumed_at is null`, oldest first, `FOR UPDATE SKIP
//!   LOCKED`, see [`claim_events`]), turns each into a rollout and sets `consumed_at` in the same
//!   transaction; a newer event for the same stack supersedes older unconsumed ones;
//! - after a successful deployment it sets `stack.deployed_commit` ([`set_deployed`]).

use sqlx::PgExecutor;
use uuid::Uuid;

use super::super::{DeploymentEvent, TrackedStack};

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
