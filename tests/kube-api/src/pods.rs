//! What the workload controllers and the garbage collector leave behind: ReplicaSets for
//! Deployments, Pods for ReplicaSets, StatefulSets, DaemonSets and Jobs (Running and Ready,
//! or stuck/crashing per the test annotations), and cascading deletion through
//! `ownerReferences`. Called by the simulator with the store lock held.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::objects::now;
use crate::sim::{FAIL, NEVER_READY, NODES};
use crate::state::State;
use crate::store::Store;

const PODS: &str = "/pods";
const REPLICASETS: &str = "apps/replicasets";

/// How simulated pods behave.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Health {
    Ready,
    NotReady,
    Crashing,
    Succeeded,
    Failed,
}

fn health(owner: &Value, job: bool) -> Health {
    let ann = |k: &str| owner["metadata"]["annotations"][k].as_str() == Some("true");
    match (job, ann(FAIL), ann(NEVER_READY)) {
        (true, true, _) => Health::Failed,
        (true, false, true) => Health::NotReady,
        (true, false, false) => Health::Succeeded,
        (false, true, _) => Health::Crashing,
        (false, false, true) => Health::NotReady,
        (false, false, false) => Health::Ready,
    }
}

/// FNV-1a, rendered with Kubernetes' safe alphabet (no vowels), `len` characters.
fn short_hash(input: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in input.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            let c = ALPHABET[usize::try_from(h % 27).unwrap_or(0)];
            h /= 27;
            if h == 0 {
                h = 0x9e37_79b9_7f4a_7c15;
            }
            char::from(c)
        })
        .collect()
}

/// The ReplicaSet name a Deployment's current template gets (`<name>-<hash>`).
#[must_use]
pub fn replicaset_name(deployment: &Value) -> String {
    let name = deployment["metadata"]["name"].as_str().unwrap_or_default();
    format!(
        "{name}-{}",
        short_hash(&deployment["spec"]["template"].to_string(), 10)
    )
}

fn owner_ref(owner: &Value) -> Value {
    json!({
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true,
    })
}

fn owned_by(obj: &Value, uid: &Value) -> bool {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["uid"] == *uid))
}

/// Stores `obj` with a new resourceVersion, notifying watchers; skips unchanged objects.
fn put(state: &Arc<State>, store: &mut Store, table: &str, mut obj: Value) {
    let ns = obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let old = store.get(table, &ns, &name);
    if let Some(old) = &old {
        obj["metadata"]["uid"] = old["metadata"]["uid"].clone();
        obj["metadata"]["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
        if **old == obj {
            return;
        }
    } else {
        obj["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
        obj["metadata"]["creationTimestamp"] = json!(now());
    }
    obj["metadata"]["resourceVersion"] = json!(store.bump());
    let kind = if old.is_some() { "MODIFIED" } else { "ADDED" };
    let stored = store.put(table, &ns, &name, obj);
    state.notify(table, &ns, kind, stored);
}

fn pod(owner: &Value, ns: &str, name: &str, node: &str, ip: usize, health: Health) -> Value {
    let template = &owner["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    if owner["kind"] == "ReplicaSet"
        && let Some(hash) = owner["metadata"]["labels"]["pod-template-hash"].as_str()
    {
        labels["pod-template-hash"] = json!(hash);
    }
    let mut spec = template["spec"].clone();
    spec["nodeName"] = json!(node);
    let (phase, ready) = match health {
        Health::Ready => ("Running", true),
        Health::NotReady | Health::Crashing => ("Running", false),
        Health::Succeeded => ("Succeeded", false),
        Health::Failed => ("Failed", false),
    };
    let t = now();
    let state = match health {
        Health::Ready | Health::NotReady => json!({"running": {"startedAt": t}}),
        Health::Crashing => {
            json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}})
        }
        Health::Succeeded => {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": t, "finishedAt": t}})
        }
        Health::Failed => {
            json!({"terminated": {"exitCode": 1, "reason": "Error", "startedAt": t, "finishedAt": t}})
        }
    };
    let containers: Vec<Value> = spec["containers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            json!({
                "name": c["name"], "image": c["image"], "imageID": "", "ready": ready,
                "started": matches!(health, Health::Ready | Health::NotReady),
                "restartCount": if health == Health::Crashing { 3 } else { 0 },
                "state": state,
            })
        })
        .collect();
    let flag = |b: bool| if b { "True" } else { "False" };
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": [owner_ref(owner)]},
        "spec": spec,
        "status": {
            "phase": phase,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": t},
                {"type": "Initialized", "status": "True", "lastTransitionTime": t},
                {"type": "ContainersReady", "status": flag(ready), "lastTransitionTime": t},
                {"type": "Ready", "status": flag(ready), "lastTransitionTime": t},
            ],
            "hostIP": "172.18.0.2",
            "podIP": format!("10.244.{}.{}", ip / 250, ip % 250 + 2),
            "startTime": t,
            "containerStatuses": containers,
            "qosClass": "BestEffort",
        },
    })
}

/// Makes the pods owned by `owner` exactly `names` (scheduled round-robin on the fake nodes).
fn sync_pods(
    state: &Arc<State>,
    store: &mut Store,
    owner: &Value,
    names: &[String],
    health: Health,
) {
    let ns = owner["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let uid = owner["metadata"]["uid"].clone();
    let existing: Vec<String> = store
        .iter(PODS, Some(&ns), None)
        .filter(|(_, p)| owned_by(p, &uid))
        .map(|((_, n), _)| n.clone())
        .collect();
    for stale in existing.iter().filter(|n| !names.contains(n)) {
        if let Some(gone) = store.remove(PODS, &ns, stale) {
            state.notify(PODS, &ns, "DELETED", gone);
        }
    }
    for (i, name) in names.iter().enumerate() {
        let keep_phase = store.get(PODS, &ns, name).is_some_and(|p| {
            let old_health_ok = p["status"]["phase"] != "Pending";
            old_health_ok && same_health(&p, health)
        });
        if keep_phase {
            continue;
        }
        let node = NODES[i % NODES.len()];
        let p = pod(
            owner,
            &ns,
            name,
            node,
            i + usize::from(short_hash(name, 1).as_bytes()[0]),
            health,
        );
        put(state, store, PODS, p);
    }
}

fn same_health(pod: &Value, health: Health) -> bool {
    let ready = pod["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    });
    let phase = pod["status"]["phase"].as_str().unwrap_or_default();
    let crashing =
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff";
    match health {
        Health::Ready => ready,
        Health::NotReady => phase == "Running" && !ready && !crashing,
        Health::Crashing => crashing,
        Health::Succeeded => phase == "Succeeded",
        Health::Failed => phase == "Failed",
    }
}

fn replicas(obj: &Value) -> usize {
    obj["spec"]["replicas"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(1)
}

/// Creates and updates the ReplicaSets and Pods of a workload after its controller ran.
pub fn reconcile_children(state: &Arc<State>, store: &mut Store, plural: &str, owner: &Value) {
    let name = owner["metadata"]["name"].as_str().unwrap_or_default();
    let ns = owner["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    match plural {
        "deployments" => {
            let rs_name = replicaset_name(owner);
            let hash = rs_name.rsplit('-').next().unwrap_or_default().to_owned();
            let uid = owner["metadata"]["uid"].clone();
            let old: Vec<Arc<Value>> = store
                .iter(REPLICASETS, Some(&ns), None)
                .filter(|((_, n), rs)| *n != rs_name && owned_by(rs, &uid))
                .map(|(_, rs)| rs.clone())
                .collect();
            for rs in old {
                let mut scaled = (*rs).clone();
                scaled["spec"]["replicas"] = json!(0);
                scaled["status"] =
                    json!({"replicas": 0, "observedGeneration": rs["metadata"]["generation"]});
                put(state, store, REPLICASETS, scaled.clone());
                sync_pods(state, store, &scaled, &[], Health::Ready);
            }
            let n = replicas(owner);
            let health = health(owner, false);
            let ready = if health == Health::Ready { n } else { 0 };
            let mut template = owner["spec"]["template"].clone();
            template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = owner["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let mut labels = owner["spec"]["template"]["metadata"]["labels"].clone();
            if !labels.is_object() {
                labels = json!({});
            }
            labels["pod-template-hash"] = json!(hash);
            let mut rs = json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": rs_name, "namespace": ns, "generation": 1, "labels": labels,
                             "annotations": {"deployment.kubernetes.io/revision": owner["metadata"]["generation"].to_string()},
                             "ownerReferences": [owner_ref(owner)]},
                "spec": {"replicas": n, "selector": selector, "template": template},
                "status": {"replicas": n, "fullyLabeledReplicas": n, "observedGeneration": 1},
            });
            if ready > 0 {
                rs["status"]["readyReplicas"] = json!(ready);
                rs["status"]["availableReplicas"] = json!(ready);
            }
            put(state, store, REPLICASETS, rs);
            let Some(rs) = store.get(REPLICASETS, &ns, &rs_name) else {
                return;
            };
            let names: Vec<String> = (0..n)
                .map(|i| format!("{rs_name}-{}", short_hash(&format!("{rs_name}/{i}"), 5)))
                .collect();
            sync_pods(state, store, &rs, &names, health);
        }
        "statefulsets" => {
            let names: Vec<String> = (0..replicas(owner))
                .map(|i| format!("{name}-{i}"))
                .collect();
            sync_pods(state, store, owner, &names, health(owner, false));
        }
        "daemonsets" => {
            let names: Vec<String> = NODES
                .iter()
                .map(|node| format!("{name}-{}", short_hash(node, 5)))
                .collect();
            sync_pods(state, store, owner, &names, health(owner, false));
        }
        "jobs" => {
            let names = vec![format!("{name}-{}", short_hash(name, 5))];
            sync_pods(state, store, owner, &names, health(owner, true));
        }
        _ => {}
    }
}

/// Deletes what `uid` owned in namespace `ns` (background cascading deletion), recursively.
pub fn collect_garbage(state: &Arc<State>, store: &mut Store, ns: &str, uid: &Value) {
    for table in [REPLICASETS, PODS, "batch/jobs", "apps/controllerrevisions"] {
        let owned: Vec<String> = store
            .iter(table, Some(ns), None)
            .filter(|(_, o)| owned_by(o, uid))
            .map(|((_, n), _)| n.clone())
            .collect();
        for name in owned {
            if let Some(gone) = store.remove(table, ns, &name) {
                let child_uid = gone["metadata"]["uid"].clone();
                state.notify(table, ns, "DELETED", gone);
                collect_garbage(state, store, ns, &child_uid);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hashes_are_stable_and_use_the_safe_alphabet() {
        let a = short_hash("template", 10);
        assert_eq!(a, short_hash("template", 10));
        assert_eq!(a.len(), 10);
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
        assert_ne!(a, short_hash("template2", 10));
    }
}
