//! What a deployment would do, without doing it: the plan, a server-side dry-run
//! (`dryRun=All`) of every object compared field by field with the live object, and the objects
//! a prune would delete. The cluster is left unchanged.

use std::collections::HashSet;

use futures::StreamExt as _;
use kube::api::{Patch, PatchParams};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::apply::other_owner;
use super::diff::{FieldChange, diff};
use super::discovery::{Discoveries, EnvDiscovery};
use super::errors::{describe, is_transient};
use super::plan::{Planned, Tier, api_for, describe_ref, plan};
use super::prune::candidates;
use super::{
    DeployError, FIELD_MANAGER, Manifest, ObjectRef, Phase, Policy, STACK_LABEL, StackIdentity,
};

/// An object that would change, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObjectChange {
    pub object: ObjectRef,
    pub diff: Vec<FieldChange>,
}

/// An object the deployment would fail on (field conflict, another stack's object, an API
/// validation error), with the API's message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ObjectRejection {
    pub object: ObjectRef,
    pub message: String,
}

/// What deploying would do on one environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    pub create: Vec<ObjectRef>,
    pub change: Vec<ObjectChange>,
    pub unchanged: Vec<ObjectRef>,
    /// Objects of the previous inventory that would be deleted (only those still this stack's).
    pub prune: Vec<ObjectRef>,
    /// Objects the deployment would fail on.
    pub rejected: Vec<ObjectRejection>,
}

enum Verdict {
    Create,
    Change(Vec<FieldChange>),
    Unchanged,
    Rejected(String),
}

/// Dry-runs one object against its live state.
async fn dry_run(
    client: &kube::Client,
    p: &Planned,
    stack: &StackIdentity,
    force: bool,
) -> Result<Verdict, DeployError> {
    let api = api_for(client, &p.resource, p.reference.namespace.as_deref());
    let fail = |e: &kube::Error, what: &str| -> Result<Verdict, DeployError> {
        if is_transient(e) {
            Err(DeployError::kube(
                Phase::Apply,
                &format!("{what} {}", describe_ref(&p.reference)),
                e,
            ))
        } else {
            Ok(Verdict::Rejected(describe(e)))
        }
    };
    let live = match api.get_opt(&p.reference.name).await {
        Ok(l) => l.map(|l| serde_json::to_value(l).unwrap_or_default()),
        Err(e) => return fail(&e, "reading"),
    };
    if let Some(owner) = live.as_ref().and_then(|l| other_owner(l, stack))
        && !force
    {
        return Ok(Verdict::Rejected(format!(
            "{} belongs to {owner}; turn on force_conflicts to take it over",
            describe_ref(&p.reference)
        )));
    }
    let mut params = PatchParams::apply(FIELD_MANAGER).dry_run();
    if force {
        params = params.force();
    }
    let after = match api
        .patch(&p.reference.name, &params, &Patch::Apply(&p.object))
        .await
    {
        Ok(o) => serde_json::to_value(o).unwrap_or_default(),
        Err(e) => return fail(&e, "dry-running"),
    };
    Ok(match live {
        None => Verdict::Create,
        Some(before) => {
            let changes = diff(&before, &after);
            if changes.is_empty() {
                Verdict::Unchanged
            } else {
                Verdict::Change(changes)
            }
        }
    })
}

/// Previews a deployment of `manifests` on one environment.
#[allow(clippy::too_many_arguments)]
pub async fn preview(
    client: &kube::Client,
    discoveries: &Discoveries,
    env: (uuid::Uuid, i32),
    manifests: &[Manifest],
    previous: &[ObjectRef],
    stack: &StackIdentity,
    policy: &Policy,
) -> Result<Preview, DeployError> {
    let discovery = discoveries.environment(env);
    let plan = plan(client, &discovery, manifests, stack, policy).await?;
    let mut out = Preview::default();
    let force = policy.force_conflicts;
    // Namespaces that do not exist yet: objects in them cannot be dry-run, they would be created.
    let mut new_namespaces: HashSet<String> = HashSet::new();
    let foundation: Vec<&Planned> = plan.tier(Tier::Foundation);
    let rest: Vec<&Planned> = plan
        .objects
        .iter()
        .filter(|p| p.tier != Tier::Foundation)
        .collect();
    for batch in [foundation, rest] {
        let runs: Vec<_> = batch
            .iter()
            .map(|p| {
                let skip = p.implicit
                    || p.pending_crd
                    || p.reference
                        .namespace
                        .as_ref()
                        .is_some_and(|ns| new_namespaces.contains(ns));
                async move {
                    if skip {
                        Ok(Verdict::Create)
                    } else {
                        dry_run(client, p, stack, force).await
                    }
                }
            })
            .collect();
        let verdicts: Vec<Result<Verdict, DeployError>> = futures::stream::iter(runs)
            .buffered(policy.parallelism.max(1))
            .collect()
            .await;
        for (p, verdict) in batch.iter().zip(verdicts) {
            let r = p.reference.clone();
            match verdict? {
                Verdict::Create => {
                    if r.group.is_empty() && r.kind == "Namespace" {
                        new_namespaces.insert(r.name.clone());
                    }
                    out.create.push(r);
                }
                Verdict::Change(diff) => out.change.push(ObjectChange { object: r, diff }),
                Verdict::Unchanged => out.unchanged.push(r),
                Verdict::Rejected(message) => {
                    out.rejected.push(ObjectRejection { object: r, message });
                }
            }
        }
    }
    if policy.prune {
        let applied: Vec<ObjectRef> = plan
            .objects
            .iter()
            .filter(|p| !p.implicit)
            .map(|p| p.reference.clone())
            .collect();
        out.prune = prunable(client, &discovery, &candidates(previous, &applied), stack).await?;
    }
    Ok(out)
}

/// The candidates that exist and still carry this stack's label.
async fn prunable(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    candidates: &[ObjectRef],
    stack: &StackIdentity,
) -> Result<Vec<ObjectRef>, DeployError> {
    let me = stack.id.to_string();
    let reads: Vec<_> = candidates
        .iter()
        .map(|r| {
            let me = me.clone();
            async move {
                let api_version = if r.group.is_empty() {
                    r.version.clone()
                } else {
                    format!("{}/{}", r.group, r.version)
                };
                let err = |e: kube::Error| {
                    DeployError::kube(Phase::Prune, &format!("reading {}", describe_ref(r)), &e)
                };
                let Some(resolved) = discovery
                    .resolve(client, &api_version, &r.kind)
                    .await
                    .map_err(err)?
                else {
                    return Ok(false);
                };
                let live = api_for(client, &resolved.resource, r.namespace.as_deref())
                    .get_opt(&r.name)
                    .await
                    .map_err(err)?;
                Ok(live.is_some_and(|l| {
                    l.metadata.labels.as_ref().and_then(|m| m.get(STACK_LABEL)) == Some(&me)
                }))
            }
        })
        .collect();
    let checks: Vec<Result<bool, DeployError>> =
        futures::stream::iter(reads).buffered(8).collect().await;
    let mut out = Vec::new();
    for (r, ok) in candidates.iter().zip(checks) {
        if ok? {
            out.push(r.clone());
        }
    }
    Ok(out)
}
