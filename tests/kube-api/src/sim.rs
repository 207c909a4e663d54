//! The controllers a real cluster runs, reduced to what tests observe: workload status after
//! a delay (with the `never-ready` and `fail` annotations), CustomResourceDefinitions becoming
//! Established, namespaces finishing termination, and the initial cluster content.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::objects::now;
use crate::resources::{self, ResourceDef};
use crate::state::State;
use crate::store::Store;

/// Annotation that keeps a workload from ever becoming ready.
pub const NEVER_READY: &str = "kube-test-api/never-ready";
/// Annotation that makes a workload fail (Deployment: ProgressDeadlineExceeded; Job: Failed).
pub const FAIL: &str = "kube-test-api/fail";

fn annotated(obj: &Value, key: &str) -> bool {
    obj["metadata"]["annotations"][key].as_str() == Some("true")
}

/// Schedules the controller reaction to a write of `def`/`ns`/`name`.
pub fn after_write(state: &Arc<State>, def: &ResourceDef, ns: &str, name: &str) {
    let delay = match (def.group.as_str(), def.plural.as_str()) {
        ("apps", "deployments" | "statefulsets" | "daemonsets" | "replicasets")
        | ("batch", "jobs") => state.options.status_delay,
        ("apiextensions.k8s.io", "customresourcedefinitions") => state.options.crd_establish_delay,
        _ => return,
    };
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (state, def, ns, name) = (state.clone(), def.clone(), ns.to_owned(), name.to_owned());
    rt.spawn(async move {
        tokio::time::sleep(delay).await;
        reconcile(&state, &def, &ns, &name);
    });
}

/// Brings one object's status up to date (the controller's work), bumping its resourceVersion
/// only when the status changes.
fn reconcile(state: &Arc<State>, def: &ResourceDef, ns: &str, name: &str) {
    let mut store = state.store.write();
    let Some(obj) = store.get(&def.storage_key(), ns, name) else {
        return;
    };
    let status = match def.plural.as_str() {
        "deployments" => deployment_status(&obj),
        "statefulsets" | "replicasets" => set_status(&obj, def.plural == "statefulsets"),
        "daemonsets" => daemonset_status(&obj),
        "jobs" => job_status(&obj),
        "customresourcedefinitions" => {
            establish_crd(state, &obj);
            crd_status(&obj)
        }
        _ => return,
    };
    if def.group == "apps" || def.group == "batch" {
        crate::pods::reconcile_children(state, &mut store, &def.plural, &obj);
    }
    if obj.get("status") == Some(&status) {
        return;
    }
    let mut updated = (*obj).clone();
    updated["status"] = status;
    updated["metadata"]["resourceVersion"] = json!(store.bump());
    let stored = store.put(&def.storage_key(), ns, name, updated);
    state.notify(&def.storage_key(), ns, "MODIFIED", stored);
}

fn condition(kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let t = now();
    json!({"type": kind, "status": status, "lastUpdateTime": t, "lastTransitionTime": t, "reason": reason, "message": message})
}

/// Keeps `lastTransitionTime` of conditions whose status did not change, so unchanged status
/// compares equal.
fn keep_times(old: &Value, mut status: Value) -> Value {
    if let (Some(old_c), Some(new_c)) = (
        old["conditions"].as_array(),
        status["conditions"].as_array_mut(),
    ) {
        for c in new_c {
            if let Some(o) = old_c.iter().find(|o| {
                o["type"] == c["type"] && o["status"] == c["status"] && o["reason"] == c["reason"]
            }) {
                *c = o.clone();
            }
        }
    }
    status
}

fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn deployment_status(obj: &Value) -> Value {
    let n = replicas(obj);
    let generation = obj["metadata"]["generation"].clone();
    let rs = crate::pods::replicaset_name(obj);
    let status = if annotated(obj, FAIL) {
        json!({
            "observedGeneration": generation, "replicas": n, "updatedReplicas": n, "unavailableReplicas": n,
            "conditions": [
                condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                condition("Progressing", "False", "ProgressDeadlineExceeded", &format!("ReplicaSet {rs:?} has timed out progressing.")),
            ]
        })
    } else if annotated(obj, NEVER_READY) {
        json!({
            "observedGeneration": generation, "replicas": n, "updatedReplicas": n, "unavailableReplicas": n,
            "conditions": [
                condition("Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
                condition("Progressing", "True", "ReplicaSetUpdated", &format!("ReplicaSet {rs:?} is progressing.")),
            ]
        })
    } else {
        let mut s = json!({
            "observedGeneration": generation,
            "conditions": [
                condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                condition("Progressing", "True", "NewReplicaSetAvailable", &format!("ReplicaSet {rs:?} has successfully progressed.")),
            ]
        });
        if n > 0 {
            for k in [
                "replicas",
                "updatedReplicas",
                "readyReplicas",
                "availableReplicas",
            ] {
                s[k] = json!(n);
            }
        }
        s
    };
    keep_times(&obj["status"], status)
}

fn set_status(obj: &Value, stateful: bool) -> Value {
    let n = replicas(obj);
    let ready = if annotated(obj, NEVER_READY) || annotated(obj, FAIL) {
        0
    } else {
        n
    };
    let mut s = json!({"observedGeneration": obj["metadata"]["generation"], "replicas": n});
    if ready > 0 {
        s["readyReplicas"] = json!(ready);
        s["availableReplicas"] = json!(ready);
    } else {
        s["availableReplicas"] = json!(0);
    }
    if stateful {
        let rev = format!(
            "{}-{}",
            obj["metadata"]["name"].as_str().unwrap_or_default(),
            obj["metadata"]["generation"]
        );
        s["currentReplicas"] = json!(n);
        s["updatedReplicas"] = json!(n);
        s["currentRevision"] = json!(rev);
        s["updateRevision"] = json!(rev);
        s["collisionCount"] = json!(0);
    } else {
        s["fullyLabeledReplicas"] = json!(n);
    }
    s
}

fn daemonset_status(obj: &Value) -> Value {
    let nodes = NODES.len();
    let ready = if annotated(obj, NEVER_READY) || annotated(obj, FAIL) {
        0
    } else {
        nodes
    };
    let mut s = json!({
        "observedGeneration": obj["metadata"]["generation"],
        "currentNumberScheduled": nodes,
        "desiredNumberScheduled": nodes,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "updatedNumberScheduled": nodes,
    });
    if ready > 0 {
        s["numberAvailable"] = json!(ready);
    } else {
        s["numberUnavailable"] = json!(nodes);
    }
    s
}

fn job_status(obj: &Value) -> Value {
    let old = &obj["status"];
    let start = old["startTime"].as_str().map_or_else(now, str::to_owned);
    let status = if annotated(obj, FAIL) {
        json!({
            "startTime": start, "failed": 1, "active": 0, "ready": 0, "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                condition("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
                condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit"),
            ]
        })
    } else if annotated(obj, NEVER_READY) {
        json!({"startTime": start, "active": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}})
    } else {
        let completions = obj["spec"]["completions"].as_i64().unwrap_or(1);
        let done = old["completionTime"]
            .as_str()
            .map_or_else(now, str::to_owned);
        json!({
            "startTime": start, "completionTime": done, "succeeded": completions, "active": 0, "ready": 0, "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
                condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods"),
            ]
        })
    };
    let mut status = keep_times(old, status);
    if let Some(conds) = status["conditions"].as_array_mut() {
        for c in conds {
            if let Some(m) = c.as_object_mut() {
                m.remove("lastUpdateTime");
                m.insert("lastProbeTime".into(), m["lastTransitionTime"].clone());
            }
        }
    }
    status
}

fn crd_status(obj: &Value) -> Value {
    let storage: Vec<Value> = obj["spec"]["versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter(|v| v["storage"].as_bool() == Some(true))
                .map(|v| v["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    let mut conditions = vec![
        condition("NamesAccepted", "True", "NoConflicts", "no conflicts found"),
        condition(
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
        ),
    ];
    for c in &mut conditions {
        if let Some(m) = c.as_object_mut() {
            m.remove("lastUpdateTime");
        }
    }
    keep_times(
        &obj["status"],
        json!({
            "acceptedNames": obj["spec"]["names"],
            "storedVersions": storage,
            "conditions": conditions,
        }),
    )
}

/// Serves the custom resources of an Established CustomResourceDefinition.
fn establish_crd(state: &Arc<State>, crd: &Value) {
    let new_defs = resources::from_crd(crd);
    let mut defs = state.defs.write();
    let group = crd["spec"]["group"].as_str().unwrap_or_default();
    let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
    defs.retain(|d| !(d.custom && d.group == group && d.plural == plural));
    defs.extend(new_defs);
}

/// Stops serving a deleted CustomResourceDefinition's resources and drops their objects.
pub fn remove_crd(state: &Arc<State>, store: &mut Store, crd: &Value) {
    let group = crd["spec"]["group"].as_str().unwrap_or_default().to_owned();
    let plural = crd["spec"]["names"]["plural"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    state
        .defs
        .write()
        .retain(|d| !(d.custom && d.group == group && d.plural == plural));
    store.drop_table(&format!("{group}/{plural}"));
}

/// Finishes a namespace deletion after the configured Terminating phase.
pub fn terminate_namespace(state: &Arc<State>, ns: &str) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (state, ns) = (state.clone(), ns.to_owned());
    rt.spawn(async move {
        tokio::time::sleep(state.options.namespace_termination_delay).await;
        let mut store = state.store.write();
        for (table, gone) in store.remove_namespace_content(&ns) {
            state.notify(&table, &ns, "DELETED", gone);
        }
        store.bump();
        if let Some(gone) = store.remove("/namespaces", "", &ns) {
            state.notify("/namespaces", "", "DELETED", gone);
        }
    });
}

/// The fake nodes every server starts with.
pub const NODES: &[&str] = &["kube-test-node-1", "kube-test-node-2"];

/// Creates what a fresh cluster has: system namespaces and fake nodes.
pub fn seed(store: &mut Store) {
    let created = now();
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let rv = store.bump();
        store.put("/namespaces", "", ns, json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "uid": uuid::Uuid::new_v4().to_string(), "resourceVersion": rv,
                         "creationTimestamp": created, "labels": {"kubernetes.io/metadata.name": ns}},
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }));
    }
    for (i, node) in NODES.iter().enumerate() {
        let rv = store.bump();
        store.put("/nodes", "", node, json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": node, "uid": uuid::Uuid::new_v4().to_string(), "resourceVersion": rv,
                         "creationTimestamp": created,
                         "labels": {"kubernetes.io/hostname": node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
            "spec": {"podCIDR": format!("10.244.{i}.0/24")},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                                "lastHeartbeatTime": created, "lastTransitionTime": created}],
                "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", i + 2)}, {"type": "Hostname", "address": node}],
                "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                "nodeInfo": {"kubeletVersion": "v1.33.0", "kubeProxyVersion": "v1.33.0", "containerRuntimeVersion": "containerd://2.0.0",
                             "operatingSystem": "linux", "architecture": "amd64", "osImage": "kube-test-api"},
            },
        }));
    }
}
