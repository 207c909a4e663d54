//! Deleting what a stack applied before and no longer declares (prune), or everything it applied
//! (stack removal): the previous inventory kept by the caller, never a label selector alone, in
//! reverse tier order (webhooks first … namespaces and CRDs last), background propagation.
//!
//! Safety: an object is deleted only when its live [`STACK_LABEL`] names this stack (anyone can
//! copy a label, but only objects in our inventory are candidates), with its uid as a
//! precondition; a CRD is kept while custom resources that are not this stack's still use it.

use std::collections::HashSet;

use futures::StreamExt as _;
use kube::api::{DeleteParams, ListParams, Preconditions};
use kube::discovery::ApiResource;

use super::discovery::EnvDiscovery;
use super::errors::{describe, is_transient, status_code};
use super::plan::{Tier, api_for, describe_ref, identity};
use super::{Action, DeployError, ObjectRef, ObjectResult, Phase, STACK_LABEL, StackIdentity};

/// The objects of `previous` that `keep` no longer holds (compared without version), each once,
/// in deletion order.
pub fn candidates(previous: &[ObjectRef], keep: &[ObjectRef]) -> Vec<ObjectRef> {
    let kept: HashSet<_> = keep.iter().map(identity).collect();
    let mut seen = HashSet::new();
    let mut out: Vec<ObjectRef> = previous
        .iter()
        .filter(|r| !kept.contains(&identity(r)) && seen.insert(identity(r)))
        .cloned()
        .collect();
    order_for_deletion(&mut out);
    out
}

fn tier_of(r: &ObjectRef) -> Tier {
    Tier::of(&r.group, &r.kind, r.namespace.is_some())
}

/// Reverse tier order, stable within a tier.
pub fn order_for_deletion(refs: &mut [ObjectRef]) {
    refs.sort_by_key(|r| std::cmp::Reverse(tier_of(r)));
}

/// What happened to one candidate.
pub struct Pruned {
    pub result: ObjectResult,
    pub error: Option<DeployError>,
}

fn result(r: &ObjectRef, action: Action, message: impl Into<String>) -> Pruned {
    Pruned {
        result: ObjectResult {
            object: r.clone(),
            action,
            message: Some(message.into()),
        },
        error: None,
    }
}

fn failure(r: &ObjectRef, message: String, transient: bool) -> Pruned {
    let error = format!("deleting {}: {message}", describe_ref(r));
    Pruned {
        result: ObjectResult {
            object: r.clone(),
            action: Action::Failed,
            message: Some(message),
        },
        error: Some(DeployError {
            phase: Phase::Prune,
            message: error,
            transient,
        }),
    }
}

fn api_version(r: &ObjectRef) -> String {
    if r.group.is_empty() {
        r.version.clone()
    } else {
        format!("{}/{}", r.group, r.version)
    }
}

/// The resource of a recorded object: its recorded version, else the version the cluster
/// recommends for the kind now (the stack may have been applied at a version since removed).
async fn resource_of(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    r: &ObjectRef,
) -> Result<Option<ApiResource>, kube::Error> {
    if let Some(found) = discovery.resolve(client, &api_version(r), &r.kind).await? {
        return Ok(Some(found.resource));
    }
    match kube::discovery::group(client, &r.group).await {
        Ok(g) => Ok(g.recommended_kind(&r.kind).map(|(ar, _)| ar)),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(None),
        Err(kube::Error::Discovery(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Deletes one candidate if it is still this stack's.
pub async fn prune_one(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    r: &ObjectRef,
    stack: &StackIdentity,
) -> Pruned {
    let resource = match resource_of(client, discovery, r).await {
        Ok(Some(res)) => res,
        Ok(None) => {
            return result(
                r,
                Action::Pruned,
                "already gone (its kind is no longer served)",
            );
        }
        Err(e) => return failure(r, format!("discovery: {}", describe(&e)), is_transient(&e)),
    };
    let api = api_for(client, &resource, r.namespace.as_deref());
    let live = match api.get_opt(&r.name).await {
        Ok(Some(live)) => live,
        Ok(None) => return result(r, Action::Pruned, "already gone"),
        Err(e) => return failure(r, describe(&e), is_transient(&e)),
    };
    let me = stack.id.to_string();
    match live
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(STACK_LABEL))
    {
        Some(id) if *id == me => {}
        Some(other) => {
            return result(
                r,
                Action::Unchanged,
                format!("not pruned: it now belongs to stack {other}"),
            );
        }
        None => {
            return result(
                r,
                Action::Unchanged,
                format!("not pruned: it no longer carries the {STACK_LABEL} label"),
            );
        }
    }
    if r.group == "apiextensions.k8s.io" && r.kind == "CustomResourceDefinition" {
        match foreign_custom_resource(client, &live.data, &me).await {
            Ok(Some(example)) => {
                return result(
                    r,
                    Action::Unchanged,
                    format!(
                        "not pruned: custom resources this stack does not own still use it (e.g. {example})"
                    ),
                );
            }
            Ok(None) => {}
            Err(e) => return failure(r, describe(&e), is_transient(&e)),
        }
    }
    let mut params = DeleteParams::background();
    params.preconditions = Some(Preconditions {
        uid: live.metadata.uid.clone(),
        resource_version: None,
    });
    match api.delete(&r.name, &params).await {
        Ok(_) => result(r, Action::Pruned, "deleted"),
        Err(e) if status_code(&e) == Some(404) => result(r, Action::Pruned, "already gone"),
        Err(e) if status_code(&e) == Some(409) => result(
            r,
            Action::Unchanged,
            "not pruned: it was replaced while Berth was deleting it",
        ),
        Err(e) => failure(r, describe(&e), is_transient(&e)),
    }
}

/// One custom resource of `crd` (any namespace) not labelled with this stack, if any.
async fn foreign_custom_resource(
    client: &kube::Client,
    crd: &serde_json::Value,
    me: &str,
) -> Result<Option<String>, kube::Error> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let Some(version) = spec["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["served"].as_bool() != Some(false))
        .and_then(|v| v["name"].as_str())
    else {
        return Ok(None);
    };
    let resource = ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: format!("{group}/{version}"),
        kind: spec["names"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        plural: spec["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    };
    let api = api_for(client, &resource, None);
    // `key!=value` also selects objects without the key.
    let list = match api
        .list(
            &ListParams::default()
                .labels(&format!("{STACK_LABEL}!={me}"))
                .limit(1),
        )
        .await
    {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(list.items.first().map(|o| match &o.metadata.namespace {
        Some(ns) => format!("{ns}/{}", o.metadata.name.clone().unwrap_or_default()),
        None => o.metadata.name.clone().unwrap_or_default(),
    }))
}

/// What pruning did: results in deletion order and the failures.
pub struct PruneOutcome {
    pub results: Vec<ObjectResult>,
    pub errors: Vec<DeployError>,
}

/// Prunes `candidates` (already in deletion order) tier by tier, `parallelism` at a time
/// within a tier; a failing tier stops the later ones (a namespace is not deleted while
/// deleting its objects failed).
pub async fn prune_all(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    candidates: &[ObjectRef],
    stack: &StackIdentity,
    parallelism: usize,
    progress: &(dyn Fn(&ObjectResult) + Send + Sync),
) -> PruneOutcome {
    let mut out = PruneOutcome {
        results: Vec::new(),
        errors: Vec::new(),
    };
    let mut start = 0;
    while start < candidates.len() {
        let tier = tier_of(&candidates[start]);
        let end = candidates[start..]
            .iter()
            .position(|r| tier_of(r) != tier)
            .map_or(candidates.len(), |n| start + n);
        let deletes: Vec<_> = candidates[start..end]
            .iter()
            .enumerate()
            .map(|(i, r)| async move {
                let p = prune_one(client, discovery, r, stack).await;
                progress(&p.result);
                (i, p)
            })
            .collect();
        let mut done: Vec<(usize, Pruned)> = futures::stream::iter(deletes)
            .buffer_unordered(parallelism.max(1))
            .collect()
            .await;
        done.sort_by_key(|(i, _)| *i);
        for (_, p) in done {
            out.results.push(p.result);
            out.errors.extend(p.error);
        }
        if !out.errors.is_empty() {
            break;
        }
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, kind: &str, ns: Option<&str>, name: &str, version: &str) -> ObjectRef {
        ObjectRef {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            namespace: ns.map(Into::into),
            name: name.into(),
        }
    }

    #[test]
    fn candidates_are_what_left_in_reverse_tier_order_ignoring_versions() {
        let previous = vec![
            r("", "Namespace", None, "web", "v1"),
            r(
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                None,
                "widgets.example.com",
                "v1",
            ),
            r(
                "rbac.authorization.k8s.io",
                "ClusterRole",
                None,
                "reader",
                "v1",
            ),
            r("", "ConfigMap", Some("web"), "a", "v1"),
            r(
                "autoscaling",
                "HorizontalPodAutoscaler",
                Some("web"),
                "api",
                "v2beta2",
            ),
            r(
                "admissionregistration.k8s.io",
                "ValidatingWebhookConfiguration",
                None,
                "check",
                "v1",
            ),
            r("", "ConfigMap", Some("web"), "kept", "v1"),
        ];
        let keep = vec![
            r("", "ConfigMap", Some("web"), "kept", "v1"),
            r(
                "autoscaling",
                "HorizontalPodAutoscaler",
                Some("web"),
                "api",
                "v2",
            ),
        ];
        let names: Vec<String> = candidates(&previous, &keep)
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(
            names,
            ["check", "a", "reader", "web", "widgets.example.com"]
        );
    }

    #[test]
    fn a_repeated_inventory_entry_is_deleted_once() {
        let a = r("", "ConfigMap", Some("x"), "a", "v1");
        assert_eq!(candidates(&[a.clone(), a], &[]).len(), 1);
    }
}
