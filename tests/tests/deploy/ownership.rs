//! One owner per object: stacks do not overwrite each other, field conflicts with other managers
//! are reported, and prune or removal never deletes what another stack (or nobody) owns.

use berth::deploy::{Action, Phase, Policy, STACK_LABEL, remove_all};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::json;

use crate::{Ctx, actions, config_map_yaml, manifests, policy, stack};

fn config_maps(ctx: &Ctx, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(
        ctx.client.clone(),
        ns,
        &ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk("", "v1", "ConfigMap")),
    )
}

#[tokio::test]
async fn a_second_stack_declaring_the_same_object_conflicts_unless_it_forces_a_takeover() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-owners").await;
    let first = stack("first", "aaa");
    let second = stack("second", "bbb");
    let shared = manifests(&[("shared.yaml", config_map_yaml(&ns, "shared", "from-first"))]);
    let (_, first_inventory) = ctx.deploy_ok(&shared, &[], &first, &policy()).await;

    let theirs = manifests(&[("shared.yaml", config_map_yaml(&ns, "shared", "from-second"))]);
    let (outcome, _) = ctx.deploy(&theirs, &[], &second, &policy()).await;
    let error = outcome.error.expect("conflict");
    assert_eq!(error.phase, Phase::Apply);
    assert!(!error.transient);
    let message = outcome.results[0].message.clone().unwrap();
    assert_eq!(outcome.results[0].action, Action::Failed);
    assert_eq!(
        message,
        format!(
            "ConfigMap {ns}/shared belongs to stack \"first\" ({}); turn on force_conflicts to take it over",
            first.id
        )
    );
    assert_eq!(
        ctx.config_map(&ns, "shared").await.unwrap()["data"]["key"],
        "from-first"
    );

    let force = Policy {
        force_conflicts: true,
        ..policy()
    };
    let (results, _) = ctx.deploy_ok(&theirs, &[], &second, &force).await;
    assert_eq!(results[0].action, Action::Configured);
    assert!(
        results[0]
            .message
            .as_deref()
            .unwrap()
            .starts_with("taken over from stack \"first\"")
    );
    let live = ctx.config_map(&ns, "shared").await.unwrap();
    assert_eq!(live["data"]["key"], "from-second");
    assert_eq!(
        live["metadata"]["labels"][STACK_LABEL],
        second.id.to_string()
    );

    // The first stack no longer declares it: its prune must leave the second stack's object.
    let other = manifests(&[("other.yaml", config_map_yaml(&ns, "other", "1"))]);
    let (results, _) = ctx
        .deploy_ok(&other, &first_inventory, &first, &policy())
        .await;
    assert_eq!(
        actions(&results),
        [
            ("ConfigMap".into(), "other".into(), Action::Created),
            ("ConfigMap".into(), "shared".into(), Action::Unchanged),
        ]
    );
    assert_eq!(
        results[1].message.as_deref(),
        Some(format!("not pruned: it now belongs to stack {}", second.id).as_str())
    );
    assert!(ctx.config_map(&ns, "shared").await.is_some());
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_field_owned_by_another_manager_is_a_conflict_unless_forced() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-ssa").await;
    let api = config_maps(&ctx, &ns);
    let by_kubectl = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "tuned", "namespace": ns}, "data": {"key": "by-hand"}});
    api.patch(
        "tuned",
        &PatchParams::apply("kubectl"),
        &Patch::Apply(&by_kubectl),
    )
    .await
    .unwrap();

    let s = stack("web", "1");
    let m = manifests(&[("a.yaml", config_map_yaml(&ns, "tuned", "from-git"))]);
    let (outcome, _) = ctx.deploy(&m, &[], &s, &policy()).await;
    let error = outcome.error.expect("conflict");
    assert!(!error.transient);
    let message = outcome.results[0].message.clone().unwrap();
    assert_eq!(outcome.results[0].action, Action::Failed);
    assert!(message.starts_with("field conflict: "), "{message}");
    assert!(
        message.contains("kubectl") && message.contains(".data.key"),
        "{message}"
    );
    assert_eq!(
        ctx.config_map(&ns, "tuned").await.unwrap()["data"]["key"],
        "by-hand"
    );

    let force = Policy {
        force_conflicts: true,
        ..policy()
    };
    let (results, _) = ctx.deploy_ok(&m, &[], &s, &force).await;
    assert_eq!(results[0].action, Action::Configured);
    assert_eq!(
        ctx.config_map(&ns, "tuned").await.unwrap()["data"]["key"],
        "from-git"
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn prune_and_removal_skip_objects_that_lost_the_stack_label() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-unlabelled").await;
    let s = stack("web", "1");
    let m = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
    ]);
    let (_, inventory) = ctx.deploy_ok(&m, &[], &s, &policy()).await;
    // Someone adopts b by hand: they remove Berth's label.
    let api = config_maps(&ctx, &ns);
    api.patch(
        "b",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {STACK_LABEL: null}}})),
    )
    .await
    .unwrap();
    let removed = remove_all(&ctx.client, &ctx.discoveries, ctx.env, &inventory, &s).await;
    assert!(removed.error.is_none(), "{:?}", removed.error);
    assert_eq!(
        actions(&removed.results),
        [
            ("ConfigMap".into(), "a".into(), Action::Pruned),
            ("ConfigMap".into(), "b".into(), Action::Unchanged),
        ]
    );
    assert_eq!(
        removed.results[1].message.as_deref(),
        Some("not pruned: it no longer carries the berth.dev/stack label")
    );
    assert!(ctx.config_map(&ns, "a").await.is_none());
    assert!(ctx.config_map(&ns, "b").await.is_some());
    // An object already gone counts as pruned.
    let again = remove_all(&ctx.client, &ctx.discoveries, ctx.env, &inventory[..1], &s).await;
    assert_eq!(again.results[0].action, Action::Pruned);
    assert_eq!(again.results[0].message.as_deref(), Some("already gone"));
    ctx.cluster.cleanup().await;
}
