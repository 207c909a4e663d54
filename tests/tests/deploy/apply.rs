//! The deployment lifecycle: created, configured, unchanged, pruned, removed; namespaces, CRDs.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use berth::deploy::{
    Action, GitSource, ObjectRef, Renderer, STACK_ANNOTATION, STACK_LABEL, remove_all, render,
};
use berth::git::{GitAuth, Mirror, RemoteSpec, fetch_commit};
use git_fixtures::{GitDaemon, GitRepo};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams};

use crate::{Ctx, actions, config_map_yaml, manifests, policy, stack, unique};

#[tokio::test]
async fn a_first_deployment_creates_every_object_labelled_with_its_stack() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-first").await;
    let s = stack("web", "c0ffee1");
    let svc = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  ports:\n  - port: 80\n"
    );
    let m = manifests(&[
        (
            "app/a.yaml",
            format!("{}---\n{svc}", config_map_yaml(&ns, "a", "1")),
        ),
        ("app/b.yaml", config_map_yaml(&ns, "b", "1")),
    ]);
    let (outcome, progress) = ctx.deploy(&m, &[], &s, &policy()).await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(
        actions(&outcome.results),
        [
            ("ConfigMap".into(), "a".into(), Action::Created),
            ("Service".into(), "web".into(), Action::Created),
            ("ConfigMap".into(), "b".into(), Action::Created),
        ]
    );
    assert_eq!(progress.len(), 3, "progress reports every object");
    let inventory = outcome.inventory.unwrap();
    assert_eq!(inventory.len(), 3);
    assert!(
        inventory
            .iter()
            .all(|r| r.namespace.as_deref() == Some(ns.as_str()))
    );
    let live = ctx.config_map(&ns, "a").await.expect("created");
    assert_eq!(live["metadata"]["labels"][STACK_LABEL], s.id.to_string());
    assert_eq!(live["metadata"]["annotations"][STACK_ANNOTATION], "web");
    let managers: Vec<&str> = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["manager"].as_str())
        .collect();
    assert_eq!(managers, ["berth"]);
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_changed_file_configures_its_object_and_the_same_manifests_again_change_nothing() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-change").await;
    let s = stack("web", "1111111");
    let v1 = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
    ]);
    let (_, inventory) = ctx.deploy_ok(&v1, &[], &s, &policy()).await;
    let v2 = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "2")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
    ]);
    let (results, inventory) = ctx.deploy_ok(&v2, &inventory, &s, &policy()).await;
    assert_eq!(
        actions(&results),
        [
            ("ConfigMap".into(), "a".into(), Action::Configured),
            ("ConfigMap".into(), "b".into(), Action::Unchanged),
        ]
    );
    assert_eq!(ctx.config_map(&ns, "a").await.unwrap()["data"]["key"], "2");
    let (results, _) = ctx.deploy_ok(&v2, &inventory, &s, &policy()).await;
    assert!(
        results.iter().all(|r| r.action == Action::Unchanged),
        "{results:?}"
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_removed_file_prunes_its_objects_and_prune_off_leaves_them() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-prune").await;
    let s = stack("web", "1");
    let all = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
        ("c.yaml", config_map_yaml(&ns, "c", "1")),
    ]);
    let (_, inventory) = ctx.deploy_ok(&all, &[], &s, &policy()).await;
    let without_c = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
    ]);
    let no_prune = berth::deploy::Policy {
        prune: false,
        ..policy()
    };
    let (results, kept_inventory) = ctx.deploy_ok(&without_c, &inventory, &s, &no_prune).await;
    assert_eq!(results.len(), 2);
    assert!(
        ctx.config_map(&ns, "c").await.is_some(),
        "prune off keeps c"
    );
    assert_eq!(kept_inventory.len(), 2);
    // The inventory that still holds c is the authoritative one for the next prune.
    let without_b = manifests(&[("a.yaml", config_map_yaml(&ns, "a", "1"))]);
    let (results, new_inventory) = ctx.deploy_ok(&without_b, &inventory, &s, &policy()).await;
    assert_eq!(
        actions(&results),
        [
            ("ConfigMap".into(), "a".into(), Action::Unchanged),
            ("ConfigMap".into(), "b".into(), Action::Pruned),
            ("ConfigMap".into(), "c".into(), Action::Pruned),
        ]
    );
    assert!(ctx.config_map(&ns, "b").await.is_none());
    assert!(ctx.config_map(&ns, "c").await.is_none());
    assert_eq!(new_inventory.len(), 1);
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn objects_without_a_namespace_get_the_default_namespace() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-defaultns").await;
    let s = stack("web", "1");
    let m = manifests(&[(
        "a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata: {k: v}\n".to_owned(),
    )]);
    let p = berth::deploy::Policy {
        default_namespace: Some(ns.clone()),
        ..policy()
    };
    let (_, inventory) = ctx.deploy_ok(&m, &[], &s, &p).await;
    assert_eq!(inventory[0].namespace.as_deref(), Some(ns.as_str()));
    assert!(ctx.config_map(&ns, "plain").await.is_some());
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_missing_namespace_fails_naming_it_unless_create_namespace_is_on() {
    let ctx = Ctx::start().await;
    let missing = unique("deploy-missing");
    let s = stack("web", "1");
    let m = manifests(&[("a.yaml", config_map_yaml(&missing, "a", "1"))]);
    let (outcome, progress) = ctx.deploy(&m, &[], &s, &policy()).await;
    let error = outcome.error.expect("fails");
    assert_eq!(error.phase, berth::deploy::Phase::Plan);
    assert!(!error.transient);
    assert!(
        error.message.contains(&format!("namespace \"{missing}\" does not exist (needed by a.yaml document 1 (ConfigMap {missing}/a))")),
        "{}",
        error.message
    );
    assert!(outcome.results.is_empty() && progress.is_empty() && outcome.inventory.is_none());
    let namespaces: Api<Namespace> = Api::all(ctx.client.clone());
    assert!(namespaces.get_opt(&missing).await.unwrap().is_none());

    let create = berth::deploy::Policy {
        create_namespace: true,
        ..policy()
    };
    let (results, inventory) = ctx.deploy_ok(&m, &[], &s, &create).await;
    assert_eq!(
        actions(&results),
        [
            ("Namespace".into(), missing.clone(), Action::Created),
            ("ConfigMap".into(), "a".into(), Action::Created),
        ]
    );
    assert!(
        results[0]
            .message
            .as_deref()
            .unwrap()
            .contains("never prunes")
    );
    assert_eq!(
        inventory.len(),
        1,
        "the created namespace is not in the inventory"
    );
    assert!(ctx.config_map(&missing, "a").await.is_some());
    // Removing the stack leaves the namespace it did not declare.
    let removed = remove_all(&ctx.client, &ctx.discoveries, ctx.env, &inventory, &s).await;
    assert!(removed.error.is_none(), "{:?}", removed.error);
    assert!(namespaces.get_opt(&missing).await.unwrap().is_some());
    namespaces
        .delete(&missing, &DeleteParams::background())
        .await
        .unwrap();
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_declared_namespace_is_applied_before_the_objects_in_it_and_removed_last() {
    let ctx = Ctx::start().await;
    let ns = unique("deploy-declared");
    let s = stack("web", "1");
    let m = manifests(&[
        ("1-cm.yaml", config_map_yaml(&ns, "a", "1")),
        (
            "2-ns.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        ),
    ]);
    let (results, inventory) = ctx.deploy_ok(&m, &[], &s, &policy()).await;
    assert_eq!(
        actions(&results),
        [
            ("Namespace".into(), ns.clone(), Action::Created),
            ("ConfigMap".into(), "a".into(), Action::Created),
        ]
    );
    let removed = remove_all(&ctx.client, &ctx.discoveries, ctx.env, &inventory, &s).await;
    assert!(removed.error.is_none(), "{:?}", removed.error);
    assert_eq!(removed.inventory, Some(vec![]));
    assert_eq!(
        actions(&removed.results),
        [
            ("ConfigMap".into(), "a".into(), Action::Pruned),
            ("Namespace".into(), ns.clone(), Action::Pruned),
        ]
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_crd_and_its_custom_resource_deploy_together() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-crd").await;
    let group = format!("{}.berth.test", unique("t"));
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n    singular: widget\n    listKind: WidgetList\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
    );
    let widget = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: gizmo\n  namespace: {ns}\nspec:\n  size: 3\n"
    );
    let s = stack("widgets", "1");
    // The custom resource comes first in the files: the plan still applies the CRD first.
    let m = manifests(&[("a-widget.yaml", widget), ("b-crd.yaml", crd)]);
    let (results, inventory) = ctx.deploy_ok(&m, &[], &s, &policy()).await;
    assert_eq!(
        actions(&results),
        [
            (
                "CustomResourceDefinition".into(),
                format!("widgets.{group}"),
                Action::Created
            ),
            ("Widget".into(), "gizmo".into(), Action::Created),
        ]
    );
    let live = ctx
        .get(
            &format!("{group}/v1"),
            "Widget",
            "widgets",
            Some(&ns),
            "gizmo",
        )
        .await
        .unwrap();
    assert_eq!(live["spec"]["size"], 3);
    let (results, _) = ctx.deploy_ok(&m, &inventory, &s, &policy()).await;
    assert!(
        results.iter().all(|r| r.action == Action::Unchanged),
        "{results:?}"
    );
    let removed = remove_all(&ctx.client, &ctx.discoveries, ctx.env, &inventory, &s).await;
    assert!(removed.error.is_none(), "{:?}", removed.error);
    ctx.cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_in_a_real_git_repository_renders_and_deploys_at_each_commit() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-git").await;
    let repo = GitRepo::with_files(
        "stack",
        &[
            ("deploy/a.yaml", &config_map_yaml(&ns, "a", "1")),
            ("deploy/nested/b.yml", &config_map_yaml(&ns, "b", "1")),
            ("README.md", "# not deployed\n"),
        ],
    );
    let first = repo.head("main");
    let second = repo.commit_files(
        &[("deploy/a.yaml", &config_map_yaml(&ns, "a", "2"))],
        "change a",
    );
    repo.remove("deploy/nested/b.yml");
    let third = repo.commit("remove b");
    let daemon = GitDaemon::serve(&[&repo]);
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::new(dir.path().join("m.git"));
    let remote = RemoteSpec {
        url: daemon.url(&repo),
        auth: GitAuth::None,
        ca_bundle: None,
        skip_tls_verify: false,
        timeout: Duration::from_secs(10),
    };
    let render_at = |commit: &str| {
        fetch_commit(&mirror, &remote, commit, &AtomicBool::new(false)).expect("fetch");
        let source = GitSource {
            mirror: mirror.clone(),
            commit: commit.to_owned(),
        };
        render(&source, &["deploy".to_owned()], &[], Renderer::Plain).expect("render")
    };
    let s = stack("git", &first);
    let m1 = tokio::task::block_in_place(|| render_at(&first));
    assert_eq!(
        m1.iter().map(|m| m.source.as_str()).collect::<Vec<_>>(),
        ["deploy/a.yaml#1", "deploy/nested/b.yml#1"]
    );
    let (_, inv) = ctx.deploy_ok(&m1, &[], &s, &policy()).await;
    let m2 = tokio::task::block_in_place(|| render_at(&second));
    let (results, inv) = ctx.deploy_ok(&m2, &inv, &s, &policy()).await;
    assert_eq!(results[0].action, Action::Configured);
    let m3 = tokio::task::block_in_place(|| render_at(&third));
    let (results, inv) = ctx.deploy_ok(&m3, &inv, &s, &policy()).await;
    assert_eq!(
        actions(&results),
        [
            ("ConfigMap".into(), "a".into(), Action::Unchanged),
            ("ConfigMap".into(), "b".into(), Action::Pruned),
        ]
    );
    assert_eq!(
        inv,
        [ObjectRef {
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some(ns.clone()),
            name: "a".into()
        }]
    );
    assert_eq!(ctx.config_map(&ns, "a").await.unwrap()["data"]["key"], "2");
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_redeployment_lists_its_objects_instead_of_reading_each() {
    let ctx = Ctx::start().await;
    let Some(server) = ctx.cluster.test_api() else {
        eprintln!("request inspection needs the test API server: skipped on a real cluster");
        return;
    };
    let ns = ctx.cluster.namespace("deploy-requests").await;
    let s = stack("web", "1");
    let files: Vec<(String, String)> = (0..10)
        .map(|i| {
            (
                format!("cm-{i}.yaml"),
                config_map_yaml(&ns, &format!("cm-{i}"), "1"),
            )
        })
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    let m = manifests(&files);
    let (_, inventory) = ctx.deploy_ok(&m, &[], &s, &policy()).await;
    server.clear_requests();
    let (results, _) = ctx.deploy_ok(&m, &inventory, &s, &policy()).await;
    assert!(results.iter().all(|r| r.action == Action::Unchanged));
    let config_map_requests: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .filter(|r| {
            r.path
                .starts_with(&format!("/api/v1/namespaces/{ns}/configmaps"))
        })
        .map(|r| (r.method, r.path))
        .collect();
    let gets = config_map_requests
        .iter()
        .filter(|(m, p)| m == "GET" && p.ends_with("/configmaps"))
        .count();
    let reads = config_map_requests
        .iter()
        .filter(|(m, p)| m == "GET" && !p.ends_with("/configmaps"))
        .count();
    let patches = config_map_requests
        .iter()
        .filter(|(m, _)| m == "PATCH")
        .count();
    assert_eq!(
        (gets, reads, patches),
        (1, 0, 10),
        "{config_map_requests:?}"
    );
    ctx.cluster.cleanup().await;
}
