//! Waiting until applied workloads are healthy: Deployment, StatefulSet and DaemonSet rollouts
//! complete and Jobs complete, polled with backoff up to the policy's timeout. A Job that fails
//! or a Deployment past its progress deadline fails at once; a timeout names every object not
//! ready and why ("Deployment web/api: 1/3 replicas available").

use std::time::Duration;

use futures::StreamExt as _;
use kube::discovery::ApiResource;
use serde_json::Value;
use tokio::time::Instant;

use super::errors::{describe, status_code};
use super::plan::{api_for, describe_ref};
use super::{DeployError, ObjectRef, Phase};

/// Requests in flight while polling.
const POLL_PARALLELISM: usize = 16;

/// One workload's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Ready,
    /// Not yet: why.
    Progressing(String),
    /// Will not get there by waiting: why.
    Failed(String),
}

/// Whether Berth waits for this kind.
pub fn watched(group: &str, kind: &str) -> bool {
    matches!(
        (group, kind),
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch", "Job")
    )
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn condition<'a>(o: &'a Value, kind: &str) -> Option<&'a Value> {
    o["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn generation_pending(o: &Value) -> Option<Health> {
    let generation = int(&o["metadata"]["generation"]);
    let observed = int(&o["status"]["observedGeneration"]);
    (observed < generation).then(|| {
        Health::Progressing(format!(
            "waiting for the controller to observe generation {generation}"
        ))
    })
}

/// The health of a live object of a [`watched`] kind.
pub fn assess(kind: &str, o: &Value) -> Health {
    match kind {
        "Deployment" => deployment(o),
        "StatefulSet" => statefulset(o),
        "DaemonSet" => daemonset(o),
        "Job" => job(o),
        _ => Health::Ready,
    }
}

fn deployment(o: &Value) -> Health {
    if let Some(pending) = generation_pending(o) {
        return pending;
    }
    if o["spec"]["paused"].as_bool() == Some(true) {
        return Health::Ready;
    }
    if let Some(c) = condition(o, "Progressing")
        && c["reason"] == "ProgressDeadlineExceeded"
    {
        return Health::Failed(format!(
            "progress deadline exceeded: {}",
            c["message"].as_str().unwrap_or_default()
        ));
    }
    let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
    let s = &o["status"];
    let (updated, total, available) = (
        int(&s["updatedReplicas"]),
        int(&s["replicas"]),
        int(&s["availableReplicas"]),
    );
    if updated < want {
        return Health::Progressing(format!("{updated}/{want} replicas updated"));
    }
    if total > updated {
        return Health::Progressing(format!(
            "{} old replicas pending termination",
            total - updated
        ));
    }
    if available < want {
        return Health::Progressing(format!("{available}/{want} replicas available"));
    }
    Health::Ready
}

fn statefulset(o: &Value) -> Health {
    if let Some(pending) = generation_pending(o) {
        return pending;
    }
    let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
    let s = &o["status"];
    let strategy = &o["spec"]["updateStrategy"];
    if strategy["type"].as_str().unwrap_or("RollingUpdate") == "RollingUpdate" {
        let partition = int(&strategy["rollingUpdate"]["partition"]);
        let updated = int(&s["updatedReplicas"]);
        if partition > 0 {
            if updated < want - partition {
                return Health::Progressing(format!(
                    "{updated}/{} replicas updated",
                    want - partition
                ));
            }
        } else if updated < want {
            return Health::Progressing(format!("{updated}/{want} replicas updated"));
        } else if s["updateRevision"].is_string() && s["currentRevision"] != s["updateRevision"] {
            return Health::Progressing(format!(
                "waiting for revision {}",
                s["updateRevision"].as_str().unwrap_or_default()
            ));
        }
    }
    let ready = int(&s["readyReplicas"]);
    if ready < want {
        return Health::Progressing(format!("{ready}/{want} replicas ready"));
    }
    if s.get("availableReplicas").is_some() && int(&s["availableReplicas"]) < want {
        return Health::Progressing(format!(
            "{}/{want} replicas available",
            int(&s["availableReplicas"])
        ));
    }
    Health::Ready
}

fn daemonset(o: &Value) -> Health {
    if let Some(pending) = generation_pending(o) {
        return pending;
    }
    let s = &o["status"];
    let desired = int(&s["desiredNumberScheduled"]);
    if o["spec"]["updateStrategy"]["type"].as_str() != Some("OnDelete") {
        let updated = int(&s["updatedNumberScheduled"]);
        if updated < desired {
            return Health::Progressing(format!("{updated}/{desired} pods updated"));
        }
    }
    let available = int(&s["numberAvailable"]);
    if available < desired {
        return Health::Progressing(format!("{available}/{desired} pods available"));
    }
    Health::Ready
}

fn job(o: &Value) -> Health {
    if let Some(c) = condition(o, "Failed")
        && c["status"] == "True"
    {
        let why = c["message"]
            .as_str()
            .or_else(|| c["reason"].as_str())
            .unwrap_or("failed");
        return Health::Failed(format!("failed: {why}"));
    }
    if let Some(c) = condition(o, "Complete")
        && c["status"] == "True"
    {
        return Health::Ready;
    }
    if o["spec"]["suspend"].as_bool() == Some(true) {
        return Health::Ready;
    }
    let completions = o["spec"]["completions"].as_i64().unwrap_or(1);
    let succeeded = int(&o["status"]["succeeded"]);
    let active = int(&o["status"]["active"]);
    Health::Progressing(format!(
        "not complete: {succeeded}/{completions} completions succeeded, {active} active"
    ))
}

/// Why each unhealthy object is not ready, and the error (if any).
pub struct HealthOutcome {
    pub error: Option<DeployError>,
    /// `(object, "health: …")` for objects that are not healthy.
    pub notes: Vec<(ObjectRef, String)>,
}

/// Polls `targets` until all are ready, one fails, or `timeout` passes.
pub async fn wait_healthy(
    client: &kube::Client,
    targets: &[(ObjectRef, ApiResource)],
    timeout: Duration,
) -> HealthOutcome {
    let deadline = Instant::now() + timeout;
    let mut pending: Vec<(ObjectRef, ApiResource, String)> = targets
        .iter()
        .map(|(r, a)| (r.clone(), a.clone(), "not checked yet".to_owned()))
        .collect();
    let mut delay = Duration::from_millis(100);
    loop {
        let probes: Vec<_> = pending
            .iter()
            .map(|(r, resource, _)| async move {
                let api = api_for(client, resource, r.namespace.as_deref());
                match api.get(&r.name).await {
                    Ok(live) => {
                        let json = serde_json::to_value(&live).unwrap_or_default();
                        assess(&r.kind, &json)
                    }
                    Err(e) if status_code(&e) == Some(404) => {
                        Health::Failed("it was deleted while Berth waited for it".into())
                    }
                    Err(e) => Health::Progressing(format!("cannot read it: {}", describe(&e))),
                }
            })
            .collect();
        let checks: Vec<Health> = futures::stream::iter(probes)
            .buffered(POLL_PARALLELISM)
            .collect()
            .await;
        let mut still = Vec::new();
        for ((r, resource, _), health) in pending.into_iter().zip(checks) {
            match health {
                Health::Ready => {}
                Health::Progressing(why) => still.push((r, resource, why)),
                Health::Failed(why) => {
                    return HealthOutcome {
                        error: Some(DeployError::new(
                            Phase::Health,
                            format!("{}: {why}", describe_ref(&r)),
                        )),
                        notes: vec![(r, format!("health: {why}"))],
                    };
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            return HealthOutcome {
                error: None,
                notes: Vec::new(),
            };
        }
        let now = Instant::now();
        if now >= deadline {
            let listed: Vec<String> = pending
                .iter()
                .take(10)
                .map(|(r, _, why)| format!("{}: {why}", describe_ref(r)))
                .collect();
            let more = pending.len().saturating_sub(10);
            let mut message = format!(
                "not healthy within {}: {}",
                human(timeout),
                listed.join("; ")
            );
            if more > 0 {
                message.push_str(&format!("; and {more} more"));
            }
            return HealthOutcome {
                error: Some(DeployError::new(Phase::Health, message)),
                notes: pending
                    .into_iter()
                    .map(|(r, _, why)| (r, format!("health: {why}")))
                    .collect(),
            };
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(2));
    }
}

fn human(d: Duration) -> String {
    if d.as_millis().is_multiple_of(1000) {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn progressing(s: &str) -> Health {
        Health::Progressing(s.into())
    }

    #[test]
    fn deployments_are_ready_when_every_replica_is_updated_and_available() {
        let d = |spec: Value, status: Value| json!({"metadata": {"generation": 2}, "spec": spec, "status": status});
        let cases = [
            (
                d(json!({"replicas": 3}), json!({"observedGeneration": 1})),
                progressing("waiting for the controller to observe generation 2"),
            ),
            (
                d(
                    json!({"replicas": 3}),
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 3}),
                ),
                progressing("1/3 replicas updated"),
            ),
            (
                d(
                    json!({"replicas": 3}),
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
                ),
                progressing("1 old replicas pending termination"),
            ),
            (
                d(
                    json!({"replicas": 3}),
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}),
                ),
                progressing("1/3 replicas available"),
            ),
            (
                d(
                    json!({"replicas": 3}),
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
                ),
                Health::Ready,
            ),
            (
                d(
                    json!({}),
                    json!({"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}),
                ),
                Health::Ready,
            ),
            (
                d(json!({"replicas": 0}), json!({"observedGeneration": 2})),
                Health::Ready,
            ),
            (
                d(
                    json!({"replicas": 2, "paused": true}),
                    json!({"observedGeneration": 2}),
                ),
                Health::Ready,
            ),
            (
                d(
                    json!({"replicas": 2}),
                    json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"a\" has timed out progressing."}]}),
                ),
                Health::Failed(
                    "progress deadline exceeded: ReplicaSet \"a\" has timed out progressing."
                        .into(),
                ),
            ),
        ];
        for (o, want) in cases {
            assert_eq!(assess("Deployment", &o), want, "{o}");
        }
    }

    #[test]
    fn statefulsets_and_daemonsets_follow_their_rollout_fields() {
        let sts = |spec: Value, status: Value| json!({"metadata": {"generation": 1}, "spec": spec, "status": status});
        let cases = [
            (
                sts(
                    json!({"replicas": 2}),
                    json!({"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 1, "currentRevision": "a", "updateRevision": "a"}),
                ),
                progressing("1/2 replicas ready"),
            ),
            (
                sts(
                    json!({"replicas": 2}),
                    json!({"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 2, "currentRevision": "a", "updateRevision": "b"}),
                ),
                progressing("waiting for revision b"),
            ),
            (
                sts(
                    json!({"replicas": 4, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}}),
                    json!({"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 4, "currentRevision": "a", "updateRevision": "b"}),
                ),
                Health::Ready,
            ),
            (
                sts(
                    json!({"replicas": 2, "updateStrategy": {"type": "OnDelete"}}),
                    json!({"observedGeneration": 1, "readyReplicas": 2}),
                ),
                Health::Ready,
            ),
            (
                sts(
                    json!({"replicas": 2}),
                    json!({"observedGeneration": 1, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2, "currentRevision": "a", "updateRevision": "a"}),
                ),
                Health::Ready,
            ),
        ];
        for (o, want) in cases {
            assert_eq!(assess("StatefulSet", &o), want, "{o}");
        }
        let ds =
            |status: Value| json!({"metadata": {"generation": 1}, "spec": {}, "status": status});
        assert_eq!(
            assess(
                "DaemonSet",
                &ds(
                    json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 1, "numberAvailable": 2})
                )
            ),
            progressing("1/2 pods updated")
        );
        assert_eq!(
            assess(
                "DaemonSet",
                &ds(
                    json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 0})
                )
            ),
            progressing("0/2 pods available")
        );
        assert_eq!(
            assess(
                "DaemonSet",
                &ds(
                    json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "updatedNumberScheduled": 2, "numberAvailable": 2})
                )
            ),
            Health::Ready
        );
    }

    #[test]
    fn jobs_are_ready_when_complete_and_fail_at_once_when_failed() {
        let complete = json!({"status": {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}});
        let failed = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}});
        let running = json!({"spec": {"completions": 3}, "status": {"succeeded": 1, "active": 2}});
        let suspended = json!({"spec": {"suspend": true}, "status": {}});
        assert_eq!(assess("Job", &complete), Health::Ready);
        assert_eq!(
            assess("Job", &failed),
            Health::Failed("failed: Job has reached the specified backoff limit".into())
        );
        assert_eq!(
            assess("Job", &running),
            progressing("not complete: 1/3 completions succeeded, 2 active")
        );
        assert_eq!(assess("Job", &suspended), Health::Ready);
    }

    #[test]
    fn only_workloads_are_watched() {
        assert!(watched("apps", "Deployment") && watched("batch", "Job"));
        assert!(
            !watched("batch", "CronJob")
                && !watched("", "Pod")
                && !watched("example.com", "Deployment")
        );
    }
}
