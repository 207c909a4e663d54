//! Running one claimed deployment: fetch the commit and render it (`source`), hand
//! the objects to the engine with the target's previous inventory, heartbeat the lease meanwhile,
//! stream per-object progress, and record the outcome — final status, per-object results, the
//! target's new inventory (only on success), the rollout's status — in one transaction.
//! Transient failures (network, 429, 5xx) go back to the queue with backoff.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::source::{policy_of, render};
use super::store::{self, Claimed};
use super::worker::Inner;
use crate::deploy::{
    self, Action, DeployError, ObjectRef, ObjectResult, Outcome, Phase, StackIdentity,
};
use crate::events::{EventBus, ServerEvent};
use crate::stacks::store as stack_store;

/// Progress events carry at most this many object results each (NOTIFY payloads are bounded).
const PROGRESS_CHUNK: usize = 10;

pub(super) fn failure(phase: Phase, message: impl Into<String>, transient: bool) -> DeployError {
    DeployError {
        phase,
        message: message.into(),
        transient,
    }
}

fn failed(error: DeployError) -> Outcome {
    Outcome {
        results: Vec::new(),
        inventory: None,
        error: Some(error),
    }
}

/// Runs a claimed deployment to its recorded end (or releases it when cancelled by shutdown).
pub(super) async fn run(inner: &Inner, claimed: Claimed, cancel: CancellationToken) {
    let started = Instant::now();
    publish(
        inner,
        "deployment.started",
        json!({"id": claimed.deployment_id, "rollout_id": claimed.rollout_id,
               "stack_id": claimed.stack_id, "environment_id": claimed.environment_id,
               "environment": claimed.environment_name, "attempt": claimed.attempts}),
    )
    .await;
    let (tx, rx) = mpsc::unbounded_channel::<ObjectResult>();
    let forwarder = tokio::spawn(forward_progress(
        inner.pool.clone(),
        claimed.deployment_id,
        rx,
    ));
    let lease_lost = CancellationToken::new();
    let heartbeat = tokio::spawn(heartbeat(
        inner.pool.clone(),
        claimed.deployment_id,
        inner.owner.clone(),
        inner.settings.lease,
        lease_lost.clone(),
    ));
    let outcome = tokio::select! {
        o = attempt(inner, &claimed, tx) => Some(o),
        () = cancel.cancelled() => None,
        () = lease_lost.cancelled() => {
            tracing::warn!(deployment = %claimed.deployment_id, "lease lost; another replica owns this deployment now");
            heartbeat.abort();
            return;
        }
    };
    heartbeat.abort();
    let _ = forwarder.await;
    let Some(outcome) = outcome else {
        release(inner, &claimed).await;
        return;
    };
    if let Err(e) = record(inner, &claimed, &outcome, started.elapsed()).await {
        // The lease expires and another replica runs it again (apply is idempotent).
        tracing::error!(deployment = %claimed.deployment_id, error = %e, "recording a deployment failed");
    }
}

/// Gives a claimed deployment back to the queue untouched (shutdown): resumed from the start by
/// whichever replica claims it next, without counting an attempt.
pub(super) async fn release(inner: &Inner, claimed: &Claimed) {
    let r = sqlx::query(
        "update deployment set status = 'queued', next_attempt_at = now(), lease_owner = null, \
           lease_until = null, attempts = greatest(attempts - 1, 0) \
         where deployment_id = $1 and lease_owner = $2 and status = 'running' \
           and not exists (select 1 from deployment q where q.stack_id = deployment.stack_id \
             and q.environment_id = deployment.environment_id and q.status = 'queued')",
    )
    .bind(claimed.deployment_id)
    .bind(&inner.owner)
    .execute(&inner.pool)
    .await;
    if let Err(e) = r {
        tracing::warn!(deployment = %claimed.deployment_id, error = %e, "releasing a deployment failed; its lease will expire");
    }
}

async fn heartbeat(
    pool: sqlx::PgPool,
    id: uuid::Uuid,
    owner: String,
    lease: Duration,
    lost: CancellationToken,
) {
    let every = (lease / 3).max(Duration::from_millis(200));
    loop {
        tokio::time::sleep(every).await;
        match store::heartbeat(&pool, id, &owner, lease.as_secs_f64()).await {
            Ok(true) => {}
            Ok(false) => {
                lost.cancel();
                return;
            }
            // The database is briefly unreachable: try again; the lease has slack.
            Err(e) => tracing::warn!(deployment = %id, error = %e, "heartbeat failed"),
        }
    }
}

async fn forward_progress(
    pool: sqlx::PgPool,
    id: uuid::Uuid,
    mut rx: mpsc::UnboundedReceiver<ObjectResult>,
) {
    let mut buf = Vec::new();
    loop {
        let more = tokio::time::timeout(Duration::from_millis(250), rx.recv()).await;
        match more {
            Ok(Some(r)) => {
                buf.push(r);
                if buf.len() < PROGRESS_CHUNK {
                    continue;
                }
            }
            Ok(None) => {
                flush(&pool, id, &mut buf).await;
                return;
            }
            Err(_) => {}
        }
        flush(&pool, id, &mut buf).await;
    }
}

async fn flush(pool: &sqlx::PgPool, id: uuid::Uuid, buf: &mut Vec<ObjectResult>) {
    if buf.is_empty() {
        return;
    }
    let event = ServerEvent::new(
        "deployment.progress",
        json!({"id": id, "objects": std::mem::take(buf)}),
    );
    if let Err(e) = EventBus::publish(pool, &event).await {
        tracing::debug!(error = %e, "progress event not published");
    }
}

async fn publish(inner: &Inner, kind: &str, data: serde_json::Value) {
    if let Err(e) = EventBus::publish(&inner.pool, &ServerEvent::new(kind, data)).await {
        tracing::debug!(error = %e, kind, "event not published");
    }
}

/// Everything up to the engine's outcome; errors before the engine are outcomes too.
async fn attempt(
    inner: &Inner,
    claimed: &Claimed,
    progress: mpsc::UnboundedSender<ObjectResult>,
) -> Outcome {
    let (Some(stack_id), Some(environment_id)) = (claimed.stack_id, claimed.environment_id) else {
        return failed(failure(
            Phase::Plan,
            "the stack or the environment was deleted before the deployment ran",
            false,
        ));
    };
    let stack = match stack_store::get_row(&inner.pool, stack_id).await {
        Ok(Some(s)) => s,
        Ok(None) => return failed(failure(Phase::Plan, "the stack was deleted", false)),
        Err(e) => return failed(failure(Phase::Plan, format!("database: {e}"), true)),
    };
    let previous = match stack_store::inventory(&inner.pool, stack_id, environment_id).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return failed(failure(
                Phase::Plan,
                format!(
                    "environment {} is no longer a target of stack {}",
                    claimed.environment_name, stack.name
                ),
                false,
            ));
        }
        Err(e) => return failed(failure(Phase::Plan, format!("database: {e}"), true)),
    };
    let (client, version) = match inner.environments.client_with_version(environment_id).await {
        Ok(c) => c,
        Err(e) => {
            return failed(failure(
                Phase::Plan,
                format!(
                    "no client for environment {}: {e}",
                    claimed.environment_name
                ),
                false,
            ));
        }
    };
    let identity = StackIdentity {
        id: stack.stack_id,
        name: stack.name.clone(),
        commit: claimed.commit.clone(),
    };
    let env = (environment_id, version);
    if claimed.kind == "remove" {
        return deploy::remove_all(&client, &inner.discoveries, env, &previous, &identity).await;
    }
    let manifests = match render(inner, &stack, &claimed.commit).await {
        Ok(m) => m,
        Err(e) => return failed(e),
    };
    let mut policy = policy_of(&stack, inner.settings.apply_parallelism);
    if policy.default_namespace.is_none() {
        // The environment's default namespace when the stack names none.
        policy.default_namespace = inner
            .environments
            .find(&environment_id.to_string())
            .await
            .ok()
            .map(|e| e.default_namespace);
    }
    let report = move |r: &ObjectResult| {
        let _ = progress.send(r.clone());
    };
    deploy::execute(
        &client,
        &inner.discoveries,
        env,
        manifests.as_slice(),
        &previous,
        &identity,
        &policy,
        &report,
    )
    .await
}

fn phase_str(p: Phase) -> &'static str {
    match p {
        Phase::Render => "render",
        Phase::Plan => "plan",
        Phase::Apply => "apply",
        Phase::Prune => "prune",
        Phase::Health => "health",
    }
}

/// Records the outcome in one transaction (or queues a retry).
async fn record(
    inner: &Inner,
    claimed: &Claimed,
    outcome: &Outcome,
    elapsed: Duration,
) -> Result<(), sqlx::Error> {
    let id = claimed.deployment_id;
    let mut tx = inner.pool.begin().await?;
    let objects = i32::try_from(outcome.results.len()).unwrap_or(i32::MAX);
    let status;
    match (&outcome.error, &outcome.inventory) {
        (None, inventory) => {
            if !store::finish(&mut *tx, id, &inner.owner, "succeeded", None, None, objects).await? {
                return lease_lost(claimed);
            }
            status = "succeeded";
            if let (Some(stack_id), Some(env_id)) = (claimed.stack_id, claimed.environment_id) {
                let inventory: Vec<ObjectRef> = inventory.clone().unwrap_or_default();
                let inv = serde_json::to_value(&inventory).unwrap_or_else(|_| json!([]));
                store::record_target(
                    &mut *tx,
                    stack_id,
                    env_id,
                    id,
                    Some((&claimed.commit, &inv)),
                )
                .await?;
            }
        }
        (Some(error), _) if error.transient && claimed.attempts < inner.settings.max_attempts => {
            let delay = backoff(inner.settings.retry_backoff, claimed.attempts);
            let message = format!(
                "attempt {} of {} failed, retrying in {}s: {}",
                claimed.attempts,
                inner.settings.max_attempts,
                delay.as_secs_f64().round(),
                error.message
            );
            if !store::retry_later(
                &mut tx,
                id,
                &inner.owner,
                delay.as_secs_f64(),
                phase_str(error.phase),
                &message,
            )
            .await?
            {
                return lease_lost(claimed);
            }
            status = "retrying";
        }
        (Some(error), _) => {
            let message = if claimed.attempts > 1 {
                format!("{} (after {} attempts)", error.message, claimed.attempts)
            } else {
                error.message.clone()
            };
            if !store::finish(
                &mut *tx,
                id,
                &inner.owner,
                "failed",
                Some(phase_str(error.phase)),
                Some(&message),
                objects,
            )
            .await?
            {
                return lease_lost(claimed);
            }
            status = "failed";
            if let (Some(stack_id), Some(env_id)) = (claimed.stack_id, claimed.environment_id) {
                store::record_target(&mut *tx, stack_id, env_id, id, None).await?;
                if claimed.kind == "apply" {
                    let applied: Vec<&ObjectRef> = outcome
                        .results
                        .iter()
                        .filter(|r| matches!(r.action, Action::Created | Action::Configured))
                        .map(|r| &r.object)
                        .collect();
                    if !applied.is_empty() {
                        let objects = serde_json::to_value(&applied).unwrap_or_else(|_| json!([]));
                        store::add_to_inventory(&mut *tx, stack_id, env_id, &objects).await?;
                    }
                }
            }
        }
    }
    store::record_objects(&mut tx, id, &outcome.results).await?;
    // Rows every deployment of a rollout shares come last: their locks are held only until
    // the commit just below.
    if status == "succeeded"
        && claimed.kind == "apply"
        && let Some(stack_id) = claimed.stack_id
    {
        stack_store::set_deployed(&mut *tx, stack_id, &claimed.commit).await?;
    }
    store::refresh_rollout(&mut tx, claimed.rollout_id).await?;
    let removed_stack = store::removal_succeeded(&mut *tx, claimed.rollout_id).await?;
    if let Some(stack_id) = removed_stack {
        stack_store::delete(&mut *tx, stack_id).await?;
    }
    EventBus::publish(
        &mut *tx,
        &ServerEvent::new(
            "deployment.finished",
            json!({"id": id, "rollout_id": claimed.rollout_id, "stack_id": claimed.stack_id,
                   "environment_id": claimed.environment_id, "status": status,
                   "error": outcome.error.as_ref().map(|e| e.message.clone())}),
        ),
    )
    .await?;
    if let Some(stack_id) = removed_stack {
        EventBus::publish(
            &mut *tx,
            &ServerEvent::new("stack.deleted", json!({"id": stack_id})),
        )
        .await?;
    }
    tx.commit().await?;
    metrics::counter!("berth_deployments_total", "status" => status).increment(1);
    metrics::histogram!("berth_deployment_duration_seconds", "status" => status)
        .record(elapsed.as_secs_f64());
    tracing::info!(
        deployment = %id,
        environment = %claimed.environment_name,
        commit = %claimed.commit,
        status,
        objects,
        elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        error = outcome.error.as_ref().map(|e| e.message.as_str()).unwrap_or(""),
        "deployment ended"
    );
    Ok(())
}

fn lease_lost(claimed: &Claimed) -> Result<(), sqlx::Error> {
    tracing::warn!(deployment = %claimed.deployment_id, "lease lost before recording; the new holder records it");
    Ok(())
}

/// Retry delay after `attempts` attempts: base × 2^(attempts−1), at most 5 minutes.
fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(0);
    base.saturating_mul(1u32 << exp)
        .min(Duration::from_secs(300))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_five_minutes() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1), Duration::from_secs(5));
        assert_eq!(backoff(base, 2), Duration::from_secs(10));
        assert_eq!(backoff(base, 4), Duration::from_secs(40));
        assert_eq!(backoff(base, 30), Duration::from_secs(300));
    }
}
