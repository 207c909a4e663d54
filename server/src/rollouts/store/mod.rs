//! SQL for rollouts, the deployment queue and per-object results.
//!
//! Queue rules (enforced by unique indexes as well as by these statements): at most one `running`
//! and one `queued` deployment per (stack, environment); enqueueing supersedes the queued one;
//! claims take queued rows whose pair has nothing running, `FOR UPDATE SKIP LOCKED`; a running
//! deployment is leased (`lease_owner`, `lease_until`) and only its lease holder may finish it.
//! Reading history is in `history`.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::Trigger;
use crate::deploy::ObjectResult;

mod history;
pub use history::{
    DeploymentFilter, ObjectFilter, RolloutFilter, deployments_of_rollout, ever_succeeded,
    get_deployment, get_rollout, list_deployments, list_rollouts, objects, removal_succeeded,
    successful_commit, summary,
};

/// A rollout to create.
#[derive(Debug, Clone)]
pub struct NewRollout<'a> {
    pub stack_id: Uuid,
    pub stack_name: &'a str,
    pub commit: &'a str,
    pub trigger: Trigger,
    pub actor: &'a str,
    pub deployment_event_id: Option<Uuid>,
}

pub async fn insert_rollout(
    db: impl PgExecutor<'_>,
    r: &NewRollout<'_>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into rollout (rollout_id, stack_id, stack_name, commit, trigger, actor, \
           deployment_event_id) values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(r.stack_id)
    .bind(r.stack_name)
    .bind(r.commit)
    .bind(r.trigger.as_str())
    .bind(r.actor)
    .bind(r.deployment_event_id)
    .execute(db)
    .await?;
    Ok(id)
}

/// Queues a deployment; a deployment already queued for the same (stack, environment) is
/// superseded by it. Returns the new id and the rollout of the superseded one, if any.
pub async fn enqueue(
    db: &mut PgConnection,
    rollout_id: Uuid,
    stack_id: Uuid,
    environment_id: Uuid,
    commit: &str,
    kind: &str,
) -> Result<(Uuid, Option<Uuid>), sqlx::Error> {
    let id = Uuid::new_v4();
    let superseded: Option<Uuid> = sqlx::query_scalar(
        "update deployment set status = 'superseded', superseded_by = $3, finished_at = now() \
         where stack_id = $1 and environment_id = $2 and status = 'queued' returning rollout_id",
    )
    .bind(stack_id)
    .bind(environment_id)
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    sqlx::query(
        "insert into deployment (deployment_id, rollout_id, stack_id, environment_id, \
           environment_name, commit, kind) \
         select $1, $2, $3, e.environment_id, e.name, $5, $6 from environment e \
         where e.environment_id = $4",
    )
    .bind(id)
    .bind(rollout_id)
    .bind(stack_id)
    .bind(environment_id)
    .bind(commit)
    .bind(kind)
    .execute(&mut *db)
    .await?;
    Ok((id, superseded))
}

/// Recomputes a rollout's status from its deployments. The row is locked first and the counts
/// read by a second statement: under READ COMMITTED that statement sees every deployment that
/// finished before the lock was granted, so the last two targets finishing together cannot both
/// count the other as still running.
pub async fn refresh_rollout(db: &mut PgConnection, rollout_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query("select 1 from rollout where rollout_id = $1 for update")
        .bind(rollout_id)
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "update rollout r set status = x.status, \
           finished_at = case when x.status in ('queued', 'running') then null \
                              else coalesce(r.finished_at, now()) end \
         from (select case \
                 when count(*) filter (where status = 'running') > 0 then 'running' \
                 when count(*) filter (where status = 'queued') > 0 then \
                   case when count(*) filter (where status in ('succeeded', 'failed')) > 0 \
                        or count(*) filter (where status = 'queued' and attempts > 0) > 0 \
                        then 'running' else 'queued' end \
                 when count(*) = 0 then 'succeeded' \
                 when count(*) = count(*) filter (where status = 'superseded') then 'superseded' \
                 when count(*) filter (where status = 'failed') = 0 then 'succeeded' \
                 when count(*) filter (where status = 'succeeded') = 0 then 'failed' \
                 else 'partial' end as status \
               from deployment where rollout_id = $1) x \
         where r.rollout_id = $1",
    )
    .bind(rollout_id)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Rollouts still marked queued or running whose deployments have all ended (a safety net run
/// by every tick; `refresh_rollout` keeps them exact).
pub async fn stale_rollouts(db: impl PgExecutor<'_>) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select r.rollout_id from rollout r where r.status in ('queued', 'running') \
           and not exists (select 1 from deployment d where d.rollout_id = r.rollout_id \
                           and d.status in ('queued', 'running')) limit 100",
    )
    .fetch_all(db)
    .await
}

/// A claimed deployment: what the runner needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Claimed {
    pub deployment_id: Uuid,
    pub rollout_id: Uuid,
    pub stack_id: Option<Uuid>,
    pub environment_id: Option<Uuid>,
    pub environment_name: String,
    pub commit: String,
    pub kind: String,
    pub attempts: i32,
}

/// Claims up to `limit` runnable deployments for `owner`, leased for `lease_secs`.
pub async fn claim(
    db: impl PgExecutor<'_>,
    owner: &str,
    lease_secs: f64,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "update deployment d set status = 'running', lease_owner = $1, \
           lease_until = now() + make_interval(secs => $2), attempts = d.attempts + 1, \
           started_at = coalesce(d.started_at, now()) \
         from (select q.deployment_id from deployment q \
               where q.status = 'queued' and q.next_attempt_at <= now() \
                 and not exists (select 1 from deployment r where r.stack_id = q.stack_id \
                                 and r.environment_id = q.environment_id and r.status = 'running') \
               order by q.next_attempt_at, q.created_at limit $3 for update skip locked) c \
         where d.deployment_id = c.deployment_id \
         returning d.deployment_id, d.rollout_id, d.stack_id, d.environment_id, \
           d.environment_name, d.commit, d.kind, d.attempts",
    )
    .bind(owner)
    .bind(lease_secs)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Extends a lease; false when this replica no longer holds it.
pub async fn heartbeat(
    db: impl PgExecutor<'_>,
    id: Uuid,
    owner: &str,
    lease_secs: f64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "update deployment set lease_until = now() + make_interval(secs => $3) \
         where deployment_id = $1 and lease_owner = $2 and status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(lease_secs)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Ends a running deployment held by `owner`; false when the lease was lost (nothing changed).
pub async fn finish(
    db: impl PgExecutor<'_>,
    id: Uuid,
    owner: &str,
    status: &str,
    error_phase: Option<&str>,
    error: Option<&str>,
    object_count: i32,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "update deployment set status = $3, error_phase = $4, error = $5, object_count = $6, \
           finished_at = now(), lease_owner = null, lease_until = null \
         where deployment_id = $1 and lease_owner = $2 and status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(status)
    .bind(error_phase)
    .bind(error)
    .bind(object_count)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Puts a running deployment back in the queue to retry after `delay_secs`, keeping the error
/// of this attempt visible. When a newer deployment is already queued for the pair, this one is
/// superseded instead. False when the lease was lost.
pub async fn retry_later(
    db: &mut PgConnection,
    id: Uuid,
    owner: &str,
    delay_secs: f64,
    error_phase: &str,
    error: &str,
) -> Result<bool, sqlx::Error> {
    let newer: Option<Uuid> = sqlx::query_scalar(
        "select q.deployment_id from deployment q join deployment d \
           on d.stack_id = q.stack_id and d.environment_id = q.environment_id \
         where d.deployment_id = $1 and q.status = 'queued'",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    let (status, superseded_by) = match newer {
        Some(n) => ("superseded", Some(n)),
        None => ("queued", None),
    };
    Ok(sqlx::query(
        "update deployment set status = $3, superseded_by = $4, error_phase = $5, error = $6, \
           next_attempt_at = now() + make_interval(secs => $7), lease_owner = null, \
           lease_until = null, \
           finished_at = case when $3 = 'superseded' then now() end \
         where deployment_id = $1 and lease_owner = $2 and status = 'running'",
    )
    .bind(id)
    .bind(owner)
    .bind(status)
    .bind(superseded_by)
    .bind(error_phase)
    .bind(error)
    .bind(delay_secs)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1)
}

/// Running deployments whose lease expired (their replica died): queued again to be resumed from
/// the start, superseded when something newer is queued, failed after `max_attempts`. Returns
/// the rollouts touched.
pub async fn reap_expired(
    db: &mut PgConnection,
    max_attempts: i32,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut touched: Vec<Uuid> = sqlx::query_scalar(
        "update deployment d set status = 'superseded', superseded_by = q.deployment_id, \
           finished_at = now(), lease_owner = null, lease_until = null \
         from deployment q \
         where d.status = 'running' and d.lease_until < now() \
           and q.stack_id = d.stack_id and q.environment_id = d.environment_id \
           and q.status = 'queued' \
         returning d.rollout_id",
    )
    .fetch_all(&mut *db)
    .await?;
    touched.extend(
        sqlx::query_scalar::<_, Uuid>(
            "update deployment set status = 'failed', error_phase = 'queue', \
               error = 'the Berth replica running this deployment stopped responding, and it \
                        has used all its attempts', \
               finished_at = now(), lease_owner = null, lease_until = null \
             where status = 'running' and lease_until < now() and attempts >= $1 \
             returning rollout_id",
        )
        .bind(max_attempts)
        .fetch_all(&mut *db)
        .await?,
    );
    touched.extend(
        sqlx::query_scalar::<_, Uuid>(
            "update deployment set status = 'queued', next_attempt_at = now(), \
               lease_owner = null, lease_until = null \
             where status = 'running' and lease_until < now() returning rollout_id",
        )
        .fetch_all(&mut *db)
        .await?,
    );
    touched.sort();
    touched.dedup();
    Ok(touched)
}

/// Replaces a deployment's per-object results.
pub async fn record_objects(
    db: &mut PgConnection,
    id: Uuid,
    results: &[ObjectResult],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from deployment_object where deployment_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    for (chunk_index, chunk) in results.chunks(1000).enumerate() {
        let offset = i32::try_from(chunk_index * 1000).unwrap_or(i32::MAX);
        let seq: Vec<i32> = (0..chunk.len())
            .map(|i| offset + i32::try_from(i).unwrap_or(i32::MAX))
            .collect();
        let group: Vec<&str> = chunk.iter().map(|r| r.object.group.as_str()).collect();
        let version: Vec<&str> = chunk.iter().map(|r| r.object.version.as_str()).collect();
        let kind: Vec<&str> = chunk.iter().map(|r| r.object.kind.as_str()).collect();
        let namespace: Vec<Option<&str>> = chunk
            .iter()
            .map(|r| r.object.namespace.as_deref())
            .collect();
        let name: Vec<&str> = chunk.iter().map(|r| r.object.name.as_str()).collect();
        let action: Vec<String> = chunk
            .iter()
            .map(|r| {
                serde_json::to_value(r.action)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        let message: Vec<Option<&str>> = chunk.iter().map(|r| r.message.as_deref()).collect();
        sqlx::query(
            "insert into deployment_object (deployment_id, seq, api_group, api_version, kind, \
               namespace, name, action, message) \
             select $1, * from unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], \
               $7::text[], $8::text[], $9::text[])",
        )
        .bind(id)
        .bind(&seq)
        .bind(&group)
        .bind(&version)
        .bind(&kind)
        .bind(&namespace)
        .bind(&name)
        .bind(&action)
        .bind(&message)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Adds objects to a target's prune inventory (a failed deployment's applied objects, so they
/// are pruned later rather than leaked; the previous inventory stays whole).
pub async fn add_to_inventory(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    environment_id: Uuid,
    objects: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update stack_target set inventory = (select coalesce(jsonb_agg(distinct e), '[]') \
           from jsonb_array_elements(inventory || $3::jsonb) e), updated_at = now() \
         where stack_id = $1 and environment_id = $2",
    )
    .bind(stack_id)
    .bind(environment_id)
    .bind(objects)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a finished deployment on its target: the last deployment always; on success also the
/// deployed commit and the new prune inventory (which otherwise stays as it was).
pub async fn record_target(
    db: impl PgExecutor<'_>,
    stack_id: Uuid,
    environment_id: Uuid,
    deployment_id: Uuid,
    success: Option<(&str, &serde_json::Value)>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update stack_target set last_deployment_id = $3, \
           deployed_commit = coalesce($4, deployed_commit), \
           inventory = coalesce($5, inventory), updated_at = now() \
         where stack_id = $1 and environment_id = $2",
    )
    .bind(stack_id)
    .bind(environment_id)
    .bind(deployment_id)
    .bind(success.map(|s| s.0))
    .bind(success.map(|s| s.1))
    .execute(db)
    .await?;
    Ok(())
}
