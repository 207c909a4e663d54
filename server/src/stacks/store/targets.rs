//! SQL for a stack's targets and their sync state (the `stack_target_state` view).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::super::model::{StackTarget, SyncState};
use crate::deploy::ObjectRef;

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
