//! Server-side apply of planned objects, tier by tier, with bounded parallelism: field manager
//! [`FIELD_MANAGER`], `force` only when the policy says so, and one stack per object — an object
//! labelled with another stack's id is a conflict (every stack shares the field manager, so SSA
//! alone would let stacks silently overwrite each other) unless `force_conflicts` takes it over.
//!
//! Each object's action comes from its resourceVersion: created (absent before), configured
//! (changed), unchanged (same, or moved only by a controller's status write). The live objects a
//! re-deployment needs are listed per (resource, namespace) rather than read one by one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::time::Instant;

use super::discovery::EnvDiscovery;
use super::errors::{describe, is_transient, status_code};
use super::plan::{Planned, api_for, describe_ref};
use super::{
    Action, DeployError, FIELD_MANAGER, ObjectResult, Phase, STACK_ANNOTATION, STACK_LABEL,
    StackIdentity,
};

/// How long a CRD may take to become Established and served.
pub const CRD_ESTABLISH_TIMEOUT: Duration = Duration::from_secs(60);

/// One object's apply: its result and, when it failed, why.
pub struct Applied {
    pub result: ObjectResult,
    pub error: Option<DeployError>,
}

fn failed(p: &Planned, message: String, transient: bool) -> Applied {
    let error = format!("{}: {message}", p.describe());
    Applied {
        result: ObjectResult {
            object: p.reference.clone(),
            action: Action::Failed,
            message: Some(message),
        },
        error: Some(DeployError {
            phase: Phase::Apply,
            message: error,
            transient,
        }),
    }
}

/// Who owns a live object according to its label and annotation, when it is another stack.
pub fn other_owner(live: &Value, stack: &StackIdentity) -> Option<String> {
    let label = live["metadata"]["labels"][STACK_LABEL].as_str()?;
    if label == stack.id.to_string() {
        return None;
    }
    let source = live["metadata"]["annotations"][STACK_ANNOTATION]
        .as_str()
        .map(|s| s.rsplit_once('@').map_or(s, |(name, _)| name))
        .map(|name| format!("stack {name:?} ({label})"));
    Some(source.unwrap_or_else(|| format!("stack {label}")))
}

/// Whether two versions of an object differ only in what the server and controllers write
/// (status, resourceVersion, managedFields, generation).
fn same_content(a: &Value, b: &Value) -> bool {
    fn strip(v: &Value) -> Value {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("status");
        }
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in ["resourceVersion", "managedFields", "generation"] {
                meta.remove(k);
            }
        }
        v
    }
    strip(a) == strip(b)
}

/// Applies one object.
///
/// `known` is the live object when a list already returned it (then it is not read again).
pub async fn apply_one(
    client: &kube::Client,
    p: &Planned,
    stack: &StackIdentity,
    force: bool,
    known: Option<DynamicObject>,
) -> Applied {
    let api = api_for(client, &p.resource, p.reference.namespace.as_deref());
    let name = &p.reference.name;
    let live = match known {
        Some(live) => Some(live),
        None => match api.get_opt(name).await {
            Ok(live) => live,
            Err(e) => {
                return failed(
                    p,
                    format!("reading the live object: {}", describe(&e)),
                    is_transient(&e),
                );
            }
        },
    };
    let live_json = live
        .as_ref()
        .map(|l| serde_json::to_value(l).unwrap_or_default());
    let mut note = None;
    if let Some(owner) = live_json.as_ref().and_then(|l| other_owner(l, stack)) {
        if !force {
            return failed(
                p,
                format!(
                    "{} belongs to {owner}; turn on force_conflicts to take it over",
                    describe_ref(&p.reference)
                ),
                false,
            );
        }
        note = Some(format!("taken over from {owner}"));
    }
    let mut params = PatchParams::apply(FIELD_MANAGER);
    if force {
        params = params.force();
    }
    let applied = match api.patch(name, &params, &Patch::Apply(&p.object)).await {
        Ok(o) => o,
        Err(e) => {
            let message = match status_code(&e) {
                Some(409) => format!("field conflict: {}", describe(&e)),
                _ => describe(&e),
            };
            return failed(p, message, is_transient(&e));
        }
    };
    let action = match (&live, &live_json) {
        (Some(before), Some(before_json)) => {
            if before.metadata.resource_version == applied.metadata.resource_version
                || same_content(
                    before_json,
                    &serde_json::to_value(&applied).unwrap_or_default(),
                )
            {
                // The second case: the resourceVersion moved because a controller wrote the
                // status meanwhile, not because of this apply.
                Action::Unchanged
            } else {
                Action::Configured
            }
        }
        _ => Action::Created,
    };
    if p.implicit && action == Action::Created {
        note = Some("created because create_namespace is on; Berth never prunes it".into());
    }
    Applied {
        result: ObjectResult {
            object: p.reference.clone(),
            action,
            message: note,
        },
        error: None,
    }
}

/// (apiVersion, plural, namespace, name) of a planned object.
type Key = (String, String, Option<String>, String);

fn key(p: &Planned) -> Key {
    (
        p.resource.api_version.clone(),
        p.resource.plural.clone(),
        p.reference.namespace.clone(),
        p.reference.name.clone(),
    )
}

/// This stack's live objects among `objects`, read with one list per (resource, namespace) that
/// holds several of them, instead of one read each; a re-deployment then costs one request per
/// object. Objects not found this way (new, or not labelled with this stack) are read one by one
/// by [`apply_one`]. A failed list only costs those reads.
async fn prefetch(
    client: &kube::Client,
    objects: &[&Planned],
    stack: &StackIdentity,
    parallelism: usize,
) -> HashMap<Key, DynamicObject> {
    let mut groups: HashMap<(String, String, Option<String>), (&Planned, usize)> = HashMap::new();
    for p in objects {
        let g = groups
            .entry((
                p.resource.api_version.clone(),
                p.resource.plural.clone(),
                p.reference.namespace.clone(),
            ))
            .or_insert((p, 0));
        g.1 += 1;
    }
    let selector = format!("{STACK_LABEL}={}", stack.id);
    // Collected first, so the buffered stream is `Send` for spawned deployments.
    let lists: Vec<_> = groups
        .into_values()
        .filter(|(_, n)| *n >= PREFETCH_MIN)
        .map(|(p, _)| {
            let selector = selector.clone();
            async move {
                let api = api_for(client, &p.resource, p.reference.namespace.as_deref());
                (p, api.list(&ListParams::default().labels(&selector)).await)
            }
        })
        .collect();
    let mut out = HashMap::new();
    let answers: Vec<_> = futures::stream::iter(lists)
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    for (p, answer) in answers {
        let Ok(list) = answer else { continue };
        for mut o in list.items {
            let Some(name) = o.metadata.name.clone() else {
                continue;
            };
            // Items of a list carry no kind; the single-object answers do.
            o.types = Some(kube::api::TypeMeta {
                api_version: p.resource.api_version.clone(),
                kind: p.resource.kind.clone(),
            });
            out.insert(
                (
                    p.resource.api_version.clone(),
                    p.resource.plural.clone(),
                    p.reference.namespace.clone(),
                    name,
                ),
                o,
            );
        }
    }
    out
}

/// Objects of one resource and namespace in a tier from which on they are listed, not read.
const PREFETCH_MIN: usize = 3;

/// What a tier's apply did.
pub struct TierOutcome {
    /// In plan order; objects not attempted (after a transient failure) are absent.
    pub results: Vec<ObjectResult>,
    pub errors: Vec<DeployError>,
}

/// Applies one tier with at most `parallelism` requests in flight. After a transient failure
/// (the cluster went away) no further object is started; after a rejection the tier goes on,
/// so every rejection of the tier is reported at once.
pub async fn apply_tier(
    client: &kube::Client,
    objects: &[&Planned],
    stack: &StackIdentity,
    force: bool,
    parallelism: usize,
    progress: &(dyn Fn(&ObjectResult) + Send + Sync),
) -> TierOutcome {
    let known = Mutex::new(prefetch(client, objects, stack, parallelism).await);
    let known = &known;
    let stop = AtomicBool::new(false);
    let stop = &stop;
    // The futures are collected first: a stream mapping borrowed items through a closure is not
    // provably `Send` for every lifetime, which spawned deployments need.
    let applies: Vec<_> = objects
        .iter()
        .enumerate()
        .map(|(i, p)| async move {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            let live = known.lock().remove(&key(p));
            let a = apply_one(client, p, stack, force, live).await;
            if a.error.as_ref().is_some_and(|e| e.transient) {
                stop.store(true, Ordering::SeqCst);
            }
            progress(&a.result);
            Some((i, a))
        })
        .collect();
    let mut done: Vec<(usize, Applied)> = futures::stream::iter(applies)
        .buffer_unordered(parallelism.max(1))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    done.sort_by_key(|(i, _)| *i);
    let mut out = TierOutcome {
        results: Vec::with_capacity(done.len()),
        errors: Vec::new(),
    };
    for (_, a) in done {
        out.results.push(a.result);
        out.errors.extend(a.error);
    }
    out
}

/// Waits until every CRD among `crds` is Established and its kinds are served, then refreshes
/// discovery for them. Bounded by [`CRD_ESTABLISH_TIMEOUT`].
pub async fn wait_for_crds(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    crds: &[&Planned],
    timeout: Duration,
) -> Result<(), DeployError> {
    let deadline = Instant::now() + timeout;
    for crd in crds {
        let api = api_for(client, &crd.resource, None);
        let mut delay = Duration::from_millis(50);
        loop {
            let live = api.get(&crd.reference.name).await.map_err(|e| {
                DeployError::kube(
                    Phase::Apply,
                    &format!("waiting for {}", describe_ref(&crd.reference)),
                    &e,
                )
            })?;
            let conditions = live.data["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let established = conditions
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True");
            if established {
                break;
            }
            if Instant::now() >= deadline {
                let why = conditions
                    .iter()
                    .find(|c| c["type"] == "NamesAccepted" && c["status"] == "False")
                    .and_then(|c| c["message"].as_str())
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return Err(DeployError::new(
                    Phase::Apply,
                    format!(
                        "{} was not Established within {}s{why}",
                        describe_ref(&crd.reference),
                        timeout.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
        wait_served(client, discovery, crd, deadline).await?;
    }
    Ok(())
}

/// Waits until discovery serves every version and kind an Established CRD defines (a real API
/// server publishes them a moment after the Established condition).
async fn wait_served(
    client: &kube::Client,
    discovery: &EnvDiscovery,
    crd: &Planned,
    deadline: Instant,
) -> Result<(), DeployError> {
    let spec = &crd.object["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default();
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"].as_bool() == Some(false) {
            continue;
        }
        let api_version = format!("{group}/{}", v["name"].as_str().unwrap_or_default());
        let mut delay = Duration::from_millis(50);
        loop {
            discovery.invalidate(&api_version);
            let served = discovery
                .resolve(client, &api_version, kind)
                .await
                .map_err(|e| {
                    DeployError::kube(Phase::Apply, &format!("discovering {api_version}"), &e)
                })?;
            if served.is_some() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(DeployError::new(
                    Phase::Apply,
                    format!("{kind} ({api_version}) is not served although its CRD is Established"),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(1));
        }
    }
    Ok(())
}

/// One error for a failed step: the first failure, how many more, transient only when every
/// failure is (retrying cannot fix a rejection).
pub fn combine(errors: &[DeployError]) -> Option<DeployError> {
    let first = errors.first()?;
    let mut message = first.message.clone();
    if errors.len() > 1 {
        message.push_str(&format!(" (and {} more failures)", errors.len() - 1));
    }
    Some(DeployError {
        phase: first.phase,
        message,
        transient: errors.iter().all(|e| e.transient),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    #[test]
    fn an_object_of_another_stack_names_it_from_the_annotation() {
        let me = StackIdentity {
            id: Uuid::new_v4(),
            name: "mine".into(),
            commit: "c".into(),
        };
        let other = Uuid::new_v4();
        let live = json!({"metadata": {"labels": {STACK_LABEL: other.to_string()}, "annotations": {STACK_ANNOTATION: "theirs@abc"}}});
        assert_eq!(
            other_owner(&live, &me),
            Some(format!("stack \"theirs\" ({other})"))
        );
        let bare = json!({"metadata": {"labels": {STACK_LABEL: other.to_string()}}});
        assert_eq!(other_owner(&bare, &me), Some(format!("stack {other}")));
        let mine = json!({"metadata": {"labels": {STACK_LABEL: me.id.to_string()}}});
        assert_eq!(other_owner(&mine, &me), None);
        assert_eq!(other_owner(&json!({"metadata": {}}), &me), None);
    }

    #[test]
    fn a_status_write_by_a_controller_is_not_a_change_of_ours() {
        let before = json!({"metadata": {"name": "a", "resourceVersion": "1", "generation": 1}, "spec": {"replicas": 1}, "status": {"readyReplicas": 0}});
        let status_moved = json!({"metadata": {"name": "a", "resourceVersion": "2", "generation": 1, "managedFields": []}, "spec": {"replicas": 1}, "status": {"readyReplicas": 1}});
        let spec_moved = json!({"metadata": {"name": "a", "resourceVersion": "3", "generation": 2}, "spec": {"replicas": 2}, "status": {"readyReplicas": 1}});
        assert!(same_content(&before, &status_moved));
        assert!(!same_content(&before, &spec_moved));
    }

    #[test]
    fn combined_errors_are_transient_only_when_all_are() {
        let e = |t| DeployError {
            phase: Phase::Apply,
            message: "x".into(),
            transient: t,
        };
        assert!(combine(&[]).is_none());
        let c = combine(&[e(true), e(false)]).unwrap();
        assert!(!c.transient);
        assert_eq!(c.message, "x (and 1 more failures)");
        assert!(combine(&[e(true), e(true)]).unwrap().transient);
    }
}
