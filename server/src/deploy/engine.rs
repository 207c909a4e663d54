//! The engine's entry points: [`execute`] one deployment (plan, apply tier by tier, wait for
//! CRDs, prune, wait for health) and [`remove_all`] of a deleted stack's objects. Both turn
//! every cluster failure into an [`Outcome`]; neither panics on what a cluster answers.

use std::time::Instant;

use uuid::Uuid;

use super::apply::{CRD_ESTABLISH_TIMEOUT, apply_tier, combine, wait_for_crds};
use super::discovery::Discoveries;
use super::health::{wait_healthy, watched};
use super::plan::{Planned, Tier, plan};
use super::prune::{candidates, order_for_deletion, prune_all};
use super::{
    Action, DeployError, Manifest, ObjectRef, ObjectResult, Outcome, Policy, StackIdentity,
};

impl Outcome {
    fn failed(results: Vec<ObjectResult>, error: DeployError) -> Outcome {
        Outcome {
            results,
            inventory: None,
            error: Some(error),
        }
    }
}

const TIERS: [Tier; 4] = [
    Tier::Foundation,
    Tier::Cluster,
    Tier::Namespaced,
    Tier::Webhooks,
];

/// Runs one deployment of `manifests` (already rendered and validated) on one environment.
///
/// `env` is (environment id, credential version), the discovery cache key. `previous` is the
/// inventory of the last successful deployment (what prune compares against). `progress` is
/// called once per object result as it happens (health notes are added to the final results
/// only).
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(stack = %stack.name, commit = %stack.commit, environment = %env.0))]
pub async fn execute(
    client: &kube::Client,
    discoveries: &Discoveries,
    env: (Uuid, i32),
    manifests: &[Manifest],
    previous: &[ObjectRef],
    stack: &StackIdentity,
    policy: &Policy,
    progress: &(dyn Fn(&ObjectResult) + Send + Sync),
) -> Outcome {
    let started = Instant::now();
    let discovery = discoveries.environment(env);
    let plan = match plan(client, &discovery, manifests, stack, policy).await {
        Ok(p) => p,
        Err(e) => return Outcome::failed(Vec::new(), e),
    };
    let mut results = Vec::with_capacity(plan.objects.len());
    for tier in TIERS {
        let objects = plan.tier(tier);
        if objects.is_empty() {
            continue;
        }
        let out = apply_tier(
            client,
            &objects,
            stack,
            policy.force_conflicts,
            policy.parallelism,
            progress,
        )
        .await;
        results.extend(out.results);
        if let Some(e) = combine(&out.errors) {
            return Outcome::failed(results, e);
        }
        if tier == Tier::Foundation {
            let crds: Vec<&Planned> = objects
                .into_iter()
                .filter(|p| {
                    p.reference.group == "apiextensions.k8s.io"
                        && p.reference.kind == "CustomResourceDefinition"
                })
                .collect();
            if let Err(e) = wait_for_crds(client, &discovery, &crds, CRD_ESTABLISH_TIMEOUT).await {
                return Outcome::failed(results, e);
            }
        }
    }
    let inventory: Vec<ObjectRef> = plan
        .objects
        .iter()
        .filter(|p| !p.implicit)
        .map(|p| p.reference.clone())
        .collect();
    if policy.prune {
        let gone = candidates(previous, &inventory);
        let out = prune_all(
            client,
            &discovery,
            &gone,
            stack,
            policy.parallelism,
            progress,
        )
        .await;
        results.extend(out.results);
        if let Some(e) = combine(&out.errors) {
            return Outcome::failed(results, e);
        }
    }
    if policy.wait_for_health {
        let targets: Vec<_> = plan
            .objects
            .iter()
            .filter(|p| watched(&p.reference.group, &p.reference.kind))
            .map(|p| (p.reference.clone(), p.resource.clone()))
            .collect();
        if !targets.is_empty() {
            let health = wait_healthy(client, &targets, policy.health_timeout).await;
            for (r, note) in health.notes {
                if let Some(res) = results
                    .iter_mut()
                    .find(|x| x.object == r && x.action != Action::Pruned)
                {
                    res.message = Some(match res.message.take() {
                        Some(m) => format!("{m}; {note}"),
                        None => note,
                    });
                }
            }
            if let Some(e) = health.error {
                return Outcome::failed(results, e);
            }
        }
    }
    tracing::info!(
        objects = inventory.len(),
        elapsed_ms = started.elapsed().as_millis(),
        "deployment applied"
    );
    Outcome {
        results,
        inventory: Some(inventory),
        error: None,
    }
}

/// Deletes a deleted stack's objects (its inventory) in reverse order, with the same ownership
/// safety as prune. On success the inventory is empty.
#[tracing::instrument(skip_all, fields(stack = %stack.name, environment = %env.0))]
pub async fn remove_all(
    client: &kube::Client,
    discoveries: &Discoveries,
    env: (Uuid, i32),
    inventory: &[ObjectRef],
    stack: &StackIdentity,
) -> Outcome {
    let discovery = discoveries.environment(env);
    let mut ordered = candidates(inventory, &[]);
    order_for_deletion(&mut ordered);
    let out = prune_all(
        client,
        &discovery,
        &ordered,
        stack,
        REMOVE_PARALLELISM,
        &|_| {},
    )
    .await;
    match combine(&out.errors) {
        Some(e) => Outcome::failed(out.results, e),
        None => Outcome {
            results: out.results,
            inventory: Some(Vec::new()),
            error: None,
        },
    }
}

/// Deletions in flight while removing a stack.
const REMOVE_PARALLELISM: usize = 8;
