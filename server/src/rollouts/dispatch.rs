//! From triggers to queued deployments: starting rollouts, consuming the deployment events of
//! change detection, and keeping each stack's targets equal to its environment ids plus the
//! environments its selector matches (an environment joining gets a rollout of its own).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::Trigger;
use super::store::{self, NewRollout};
use crate::environments::Selector;
use crate::events::{EventBus, ServerEvent};
use crate::stacks::StackError;
use crate::stacks::store::{self as stack_store, StackRow};

/// Events claimed per transaction.
const EVENT_BATCH: i64 = 100;

/// Starts a rollout of `stack` at `commit` to `environments` (`None`: every current target).
/// Runs inside the caller's transaction; returns the rollout id.
pub async fn start_rollout(
    tx: &mut PgConnection,
    stack: &StackRow,
    commit: &str,
    trigger: Trigger,
    actor: &str,
    deployment_event_id: Option<Uuid>,
    environments: Option<&[Uuid]>,
) -> Result<Uuid, StackError> {
    let targets: Vec<Uuid> = match environments {
        Some(ids) => ids.to_vec(),
        None => stack_store::targets(&mut *tx, stack.stack_id)
            .await?
            .into_iter()
            .map(|t| t.environment_id)
            .collect(),
    };
    let rollout_id = store::insert_rollout(
        &mut *tx,
        &NewRollout {
            stack_id: stack.stack_id,
            stack_name: &stack.name,
            commit,
            trigger,
            actor,
            deployment_event_id,
        },
    )
    .await?;
    let kind = if trigger == Trigger::Removal {
        "remove"
    } else {
        "apply"
    };
    let mut superseded = BTreeSet::new();
    for env in &targets {
        let (_, older) =
            store::enqueue(&mut *tx, rollout_id, stack.stack_id, *env, commit, kind).await?;
        superseded.extend(older);
    }
    for r in superseded {
        store::refresh_rollout(&mut *tx, r).await?;
    }
    store::refresh_rollout(&mut *tx, rollout_id).await?;
    EventBus::publish(
        &mut *tx,
        &ServerEvent::new(
            "rollout.created",
            json!({"id": rollout_id, "stack_id": stack.stack_id, "stack_name": stack.name,
                   "commit": commit, "trigger": trigger.as_str(), "targets": targets.len()}),
        ),
    )
    .await?;
    metrics::counter!("berth_rollouts_total", "trigger" => trigger.as_str()).increment(1);
    Ok(rollout_id)
}

/// Turns pending deployment events into rollouts (oldest first; claimed with SKIP LOCKED so
/// replicas share the work). A stack that is paused, being deleted, not auto-deploying, or held
/// by a rollback at that very commit gets no rollout: its state shows "out of date" instead.
/// Returns the rollouts started.
pub async fn consume_events(pool: &PgPool) -> Result<usize, StackError> {
    let mut started = 0;
    loop {
        let mut tx = pool.begin().await?;
        let events = stack_store::claim_events(&mut *tx, EVENT_BATCH).await?;
        if events.is_empty() {
            return Ok(started);
        }
        // The newest event of a stack supersedes older ones claimed together.
        let mut newest: BTreeMap<Uuid, &crate::stacks::DeploymentEvent> = BTreeMap::new();
        for e in &events {
            newest.insert(e.stack_id, e);
        }
        for event in newest.values() {
            stack_store::lock(&mut *tx, event.stack_id).await?;
            let Some(stack) = stack_store::get_row(&mut *tx, event.stack_id).await? else {
                continue;
            };
            if stack.paused || stack.deleting || !stack.auto_deploy {
                continue;
            }
            if let Some(hold) = &stack.rollback_hold_commit {
                if hold == &event.commit {
                    continue;
                }
                // A new commit arrived after a rollback: auto-deploy resumes with it.
                stack_store::set_hold(&mut *tx, stack.stack_id, None).await?;
            }
            let trigger = Trigger::parse(&event.trigger).unwrap_or(Trigger::Poll);
            start_rollout(
                &mut tx,
                &stack,
                &event.commit,
                trigger,
                "system",
                Some(event.id),
                None,
            )
            .await?;
            started += 1;
        }
        tx.commit().await?;
    }
}

/// The environments a stack should target now.
fn wanted(
    explicit: &[Uuid],
    selector: Option<&Selector>,
    environments: &[(Uuid, BTreeMap<String, String>)],
) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = environments
        .iter()
        .filter(|(id, tags)| explicit.contains(id) || selector.is_some_and(|s| s.matches(tags)))
        .map(|(id, _)| *id)
        .collect();
    out.sort();
    out
}

async fn environments(
    db: &mut PgConnection,
) -> Result<Vec<(Uuid, BTreeMap<String, String>)>, StackError> {
    Ok(stack_store::environment_tags(db)
        .await?
        .into_iter()
        .map(|(id, tags)| (id, serde_json::from_value(tags).unwrap_or_default()))
        .collect())
}

/// Makes one stack's targets match its rules, in the caller's transaction; environments that
/// joined get a rollout of what the stack runs (its deployed commit, else its latest commit when
/// it auto-deploys). Returns the environments that joined.
pub async fn reconcile_stack(
    tx: &mut PgConnection,
    stack_id: Uuid,
    actor: &str,
) -> Result<Vec<Uuid>, StackError> {
    let Some(stack) = stack_store::get_row(&mut *tx, stack_id).await? else {
        return Ok(Vec::new());
    };
    if stack.deleting {
        return Ok(Vec::new());
    }
    let selector = stack
        .target_selector
        .as_deref()
        .and_then(|s| Selector::parse(s).ok());
    let envs = environments(&mut *tx).await?;
    let want = wanted(&stack.target_environment_ids, selector.as_ref(), &envs);
    let joined = stack_store::set_targets(&mut *tx, stack_id, &want).await?;
    roll_out_to_joined(tx, &stack, &joined, actor).await?;
    Ok(joined)
}

async fn roll_out_to_joined(
    tx: &mut PgConnection,
    stack: &StackRow,
    joined: &[Uuid],
    actor: &str,
) -> Result<(), StackError> {
    if joined.is_empty() || stack.paused {
        return Ok(());
    }
    let commit = stack.deployed_commit.clone().or_else(|| {
        stack
            .latest_commit
            .clone()
            .filter(|_| stack.auto_deploy && stack.rollback_hold_commit.is_none())
    });
    if let Some(commit) = commit {
        start_rollout(
            tx,
            stack,
            &commit,
            Trigger::EnvironmentJoined,
            actor,
            None,
            Some(joined),
        )
        .await?;
    }
    Ok(())
}

/// Re-evaluates every stack's targets (after environments joined, left or changed tags).
/// Cheap when nothing changed: one read of environments and stacks, no writes.
pub async fn reconcile_all(pool: &PgPool) -> Result<usize, StackError> {
    let mut conn = pool.acquire().await?;
    let envs = environments(&mut conn).await?;
    let rules = stack_store::targeting_rules(&mut *conn).await?;
    let current: BTreeMap<Uuid, BTreeSet<Uuid>> = {
        let rows: Vec<(Uuid, Uuid)> =
            sqlx::query_as("select stack_id, environment_id from stack_target")
                .fetch_all(&mut *conn)
                .await?;
        let mut m: BTreeMap<Uuid, BTreeSet<Uuid>> = BTreeMap::new();
        for (s, e) in rows {
            m.entry(s).or_default().insert(e);
        }
        m
    };
    drop(conn);
    let mut changed = 0;
    for (stack_id, explicit, selector) in rules {
        let selector = selector.as_deref().and_then(|s| Selector::parse(s).ok());
        let want: BTreeSet<Uuid> = wanted(&explicit, selector.as_ref(), &envs)
            .into_iter()
            .collect();
        let empty = BTreeSet::new();
        if current.get(&stack_id).unwrap_or(&empty) == &want {
            continue;
        }
        let mut tx = pool.begin().await?;
        stack_store::lock(&mut *tx, stack_id).await?;
        reconcile_stack(&mut tx, stack_id, "system").await?;
        tx.commit().await?;
        changed += 1;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_named_environments_plus_the_selected_ones() {
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let c = Uuid::from_u128(3);
        let tags = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>()
        };
        let envs = vec![
            (a, tags(&[("env", "prod"), ("region", "eu")])),
            (b, tags(&[("env", "staging")])),
            (c, tags(&[("env", "prod"), ("region", "us")])),
        ];
        let sel = Selector::parse("env=prod,region in (eu)").unwrap();
        assert_eq!(wanted(&[b], Some(&sel), &envs), vec![a, b]);
        assert_eq!(wanted(&[], None, &envs), Vec::<Uuid>::new());
        // An id of an environment that no longer exists is ignored.
        assert_eq!(
            wanted(&[Uuid::from_u128(9)], None, &envs),
            Vec::<Uuid>::new()
        );
    }
}
