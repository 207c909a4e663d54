//! Deployments that fail: before anything is applied (render, unknown kind), and part-way (the
//! cluster going away), with what was done kept and the error classified.

use std::sync::Arc;
use std::time::Duration;

use berth::deploy::{Action, MemorySource, Phase, Renderer, execute, render};
use tokio::sync::Notify;

use crate::{Ctx, config_map_yaml, manifests, policy, stack};

#[tokio::test]
async fn broken_yaml_fails_the_render_naming_the_file_and_document_and_applies_nothing() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-broken").await;
    let src = MemorySource::from_files([
        ("apps/a.yaml", config_map_yaml(&ns, "a", "1")),
        (
            "apps/web.yaml",
            format!(
                "{}---\nkind: ConfigMap\nmetadata: {{name: [oops}}\n",
                config_map_yaml(&ns, "b", "1")
            ),
        ),
    ]);
    let error = render(&src, &["apps".to_owned()], &[], Renderer::Plain).unwrap_err();
    assert_eq!(error.phase, Phase::Render);
    assert!(!error.transient);
    assert!(
        error
            .message
            .starts_with("apps/web.yaml document 2: invalid YAML at line 10"),
        "{}",
        error.message
    );
    // The good files before it were not applied either: rendering touches no cluster.
    assert!(ctx.config_map(&ns, "a").await.is_none());
    assert!(ctx.config_map(&ns, "b").await.is_none());
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn an_unknown_kind_fails_the_plan_naming_its_document_with_nothing_applied() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-unknown").await;
    let m = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        (
            "b.yaml",
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b, namespace: {ns}}}\n---\napiVersion: gadgets.example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: {ns}\n"
            ),
        ),
    ]);
    let (outcome, progress) = ctx.deploy(&m, &[], &stack("web", "1"), &policy()).await;
    let error = outcome.error.expect("fails");
    assert_eq!(error.phase, Phase::Plan);
    assert!(!error.transient);
    assert_eq!(
        error.message,
        "b.yaml document 2: kind Gadget (gadgets.example.com/v1) is not served by the cluster and no CustomResourceDefinition in this stack defines it"
    );
    assert!(outcome.results.is_empty() && progress.is_empty() && outcome.inventory.is_none());
    assert!(ctx.config_map(&ns, "a").await.is_none());
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn an_api_rejection_fails_the_object_and_stops_later_tiers_keeping_what_was_done() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-reject").await;
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: NAME\nrules: []\n";
    let role_name = crate::unique("berth-test-role");
    let m = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        // The API refuses a Service name that is not a DNS-1035 label (it starts with a digit).
        (
            "b.yaml",
            format!(
                "apiVersion: v1\nkind: Service\nmetadata: {{name: 9-lives, namespace: {ns}}}\nspec:\n  ports: [{{port: 80}}]\n"
            ),
        ),
        ("c.yaml", role.replace("NAME", &role_name)),
        (
            "d.yaml",
            format!(
                "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {{name: {role_name}}}\nwebhooks: []\n"
            ),
        ),
    ]);
    let s = stack("web", "1");
    let (outcome, _) = ctx.deploy(&m, &[], &s, &policy()).await;
    let error = outcome.error.expect("fails");
    assert_eq!(error.phase, Phase::Apply);
    assert!(!error.transient, "a 422 is not worth retrying");
    assert!(
        error
            .message
            .starts_with(&format!("b.yaml document 1 (Service {ns}/9-lives): ")),
        "{}",
        error.message
    );
    assert!(error.message.contains("DNS-1035"), "{}", error.message);
    let got: Vec<(String, Action)> = outcome
        .results
        .iter()
        .map(|r| (r.object.name.clone(), r.action))
        .collect();
    // The cluster-scoped tier ran first; the namespaced tier finished; the webhook tier did not run.
    assert_eq!(
        got,
        [
            (role_name.clone(), Action::Created),
            ("a".into(), Action::Created),
            ("9-lives".into(), Action::Failed)
        ]
    );
    assert!(outcome.inventory.is_none());
    let removed = berth::deploy::remove_all(
        &ctx.client,
        &ctx.discoveries,
        ctx.env,
        &[outcome.results[0].object.clone()],
        &s,
    )
    .await;
    assert!(removed.error.is_none(), "{:?}", removed.error);
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_cluster_that_goes_away_mid_deployment_is_a_transient_failure_that_keeps_results() {
    let ctx = Ctx::start().await;
    let Some(server) = ctx.cluster.test_api() else {
        eprintln!("fault injection needs the test API server: skipped on a real cluster");
        return;
    };
    let ns = ctx.cluster.namespace("deploy-down").await;
    let files: Vec<(String, String)> = (0..20)
        .map(|i| {
            (
                format!("cm-{i:02}.yaml"),
                config_map_yaml(&ns, &format!("cm-{i:02}"), "1"),
            )
        })
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let m = manifests(&files);
    let s = stack("web", "1");
    let p = berth::deploy::Policy {
        parallelism: 1,
        ..policy()
    };
    let reached = Arc::new(Notify::new());
    let count = std::sync::atomic::AtomicUsize::new(0);
    let notify = reached.clone();
    let progress = move |_: &berth::deploy::ObjectResult| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1 == 5 {
            notify.notify_one();
        }
    };
    let (outcome, ()) = tokio::join!(
        execute(
            &ctx.client,
            &ctx.discoveries,
            ctx.env,
            &m,
            &[],
            &s,
            &p,
            &progress
        ),
        async {
            tokio::time::timeout(Duration::from_secs(30), reached.notified())
                .await
                .expect("five objects applied");
            server.go_down().await;
        }
    );
    let error = outcome.error.expect("fails");
    assert!(
        error.transient,
        "an unreachable cluster is worth retrying: {error:?}"
    );
    assert_eq!(error.phase, Phase::Apply);
    assert!(
        error.message.contains("cannot reach the cluster"),
        "{}",
        error.message
    );
    assert!(outcome.inventory.is_none());
    let applied = outcome
        .results
        .iter()
        .filter(|r| r.action == Action::Created)
        .count();
    assert!(
        applied >= 5,
        "what was applied is kept: {:?}",
        outcome.results
    );
    assert!(
        outcome.results.len() < 20,
        "no object is attempted after the cluster went away"
    );
    assert_eq!(
        outcome
            .results
            .iter()
            .filter(|r| r.action == Action::Failed)
            .count(),
        1
    );
    // Back up: the retry applies the rest and nothing is lost.
    server.come_back().await;
    let (results, inventory) = ctx.deploy_ok(&m, &[], &s, &p).await;
    assert_eq!(inventory.len(), 20);
    assert_eq!(
        results
            .iter()
            .filter(|r| r.action == Action::Unchanged)
            .count(),
        applied
    );
    ctx.cluster.cleanup().await;
}
