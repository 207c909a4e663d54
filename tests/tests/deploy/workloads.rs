//! Waiting for health: Deployment rollouts and Job completion, timeouts and failures. Workloads
//! carry both the test API server's simulation annotations and a real reason to behave the same
//! way on a real cluster (an image that cannot be pulled, a command that fails).

use std::time::{Duration, Instant};

use berth::deploy::{Action, Phase, Policy};

use crate::{Ctx, manifests, policy, stack};

fn deployment(ns: &str, name: &str, image: &str, annotation: Option<&str>) -> String {
    let annotations = annotation
        .map(|a| format!("  annotations:\n    {a}: \"true\"\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n{annotations}spec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: main\n        image: {image}\n"
    )
}

fn job(ns: &str, name: &str, command: &str, annotation: Option<&str>) -> String {
    let annotations = annotation
        .map(|a| format!("  annotations:\n    {a}: \"true\"\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  namespace: {ns}\n{annotations}spec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: main\n        image: busybox:1.36\n        command: [\"sh\", \"-c\", \"{command}\"]\n"
    )
}

fn waiting(timeout: Duration) -> Policy {
    Policy {
        wait_for_health: true,
        health_timeout: timeout,
        ..policy()
    }
}

#[tokio::test]
async fn a_deployment_that_becomes_available_succeeds_after_waiting_for_it() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-healthy").await;
    let m = manifests(&[(
        "web.yaml",
        deployment(&ns, "web", "registry.k8s.io/pause:3.10", None),
    )]);
    let (results, inventory) = ctx
        .deploy_ok(
            &m,
            &[],
            &stack("web", "1"),
            &waiting(Duration::from_secs(120)),
        )
        .await;
    assert_eq!(results[0].action, Action::Created);
    assert_eq!(inventory.len(), 1);
    let live = ctx
        .get("apps/v1", "Deployment", "deployments", Some(&ns), "web")
        .await
        .unwrap();
    assert_eq!(live["status"]["availableReplicas"], 1);
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_deployment_that_never_becomes_ready_times_out_naming_it_and_why() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-timeout").await;
    let m = manifests(&[
        (
            "web.yaml",
            deployment(
                &ns,
                "api",
                "registry.invalid/berth/never:1",
                Some(kube_test_api::NEVER_READY),
            ),
        ),
        ("cm.yaml", crate::config_map_yaml(&ns, "settings", "1")),
    ]);
    let started = Instant::now();
    let (outcome, _) = ctx
        .deploy(
            &m,
            &[],
            &stack("web", "1"),
            &waiting(Duration::from_secs(3)),
        )
        .await;
    let elapsed = started.elapsed();
    let error = outcome.error.expect("times out");
    assert_eq!(error.phase, Phase::Health);
    assert!(!error.transient);
    assert_eq!(
        error.message,
        format!("not healthy within 3s: Deployment {ns}/api: 0/1 replicas available")
    );
    assert!(
        elapsed >= Duration::from_secs(3) && elapsed < Duration::from_secs(20),
        "{elapsed:?}"
    );
    assert!(
        outcome.inventory.is_none(),
        "a failed health check keeps the previous inventory"
    );
    let api_result = outcome
        .results
        .iter()
        .find(|r| r.object.name == "api")
        .unwrap();
    assert_eq!(api_result.action, Action::Created, "the object was applied");
    assert_eq!(
        api_result.message.as_deref(),
        Some("health: 0/1 replicas available")
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_job_that_completes_succeeds_and_a_job_that_fails_fails_at_once() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-jobs").await;
    let ok = manifests(&[("migrate.yaml", job(&ns, "migrate", "true", None))]);
    let (results, _) = ctx
        .deploy_ok(
            &ok,
            &[],
            &stack("jobs", "1"),
            &waiting(Duration::from_secs(120)),
        )
        .await;
    assert_eq!(results[0].action, Action::Created);

    let bad = manifests(&[(
        "broken.yaml",
        job(&ns, "broken", "exit 3", Some(kube_test_api::FAIL)),
    )]);
    let started = Instant::now();
    let (outcome, _) = ctx
        .deploy(
            &bad,
            &[],
            &stack("jobs-2", "1"),
            &waiting(Duration::from_secs(300)),
        )
        .await;
    let error = outcome.error.expect("job failure");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "a failed Job does not wait for the timeout"
    );
    assert_eq!(error.phase, Phase::Health);
    assert!(!error.transient);
    assert!(
        error
            .message
            .starts_with(&format!("Job {ns}/broken: failed: ")),
        "{}",
        error.message
    );
    assert!(error.message.contains("backoff limit"), "{}", error.message);
    ctx.cluster.cleanup().await;
}
