//! Preview: what a deployment would create, change (field by field) and prune, computed with a
//! server-side dry-run that leaves the cluster exactly as it was.

use berth::deploy::{FieldChange, Policy, preview};
use serde_json::{Value, json};

use crate::{Ctx, config_map_yaml, manifests, policy, stack};

fn web(ns: &str, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: {ns}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {image}\n      - name: sidecar\n        image: registry.k8s.io/pause:3.10\n"
    )
}

/// Every object in the test's namespace with its resourceVersion.
async fn snapshot(ctx: &Ctx, ns: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (v, kind, plural) in [
        ("v1", "ConfigMap", "configmaps"),
        ("apps/v1", "Deployment", "deployments"),
    ] {
        for name in ["web", "a", "b", "c"] {
            if let Some(o) = ctx.get(v, kind, plural, Some(ns), name).await {
                out.push((
                    kind.to_owned(),
                    name.to_owned(),
                    o["metadata"]["resourceVersion"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn a_preview_lists_creations_field_changes_and_prunes_and_changes_nothing() {
    let ctx = Ctx::start().await;
    let ns = ctx.cluster.namespace("deploy-preview").await;
    let s = stack("web", "1111");
    let v1 = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("b.yaml", config_map_yaml(&ns, "b", "1")),
        ("web.yaml", web(&ns, "nginx:1.27", 2)),
    ]);
    let (_, inventory) = ctx.deploy_ok(&v1, &[], &s, &policy()).await;
    let before = snapshot(&ctx, &ns).await;

    let next = berth::deploy::StackIdentity {
        commit: "2222".into(),
        ..s.clone()
    };
    let v2 = manifests(&[
        ("a.yaml", config_map_yaml(&ns, "a", "1")),
        ("c.yaml", config_map_yaml(&ns, "c", "new")),
        ("web.yaml", web(&ns, "nginx:1.28", 3)),
    ]);
    let p = preview(
        &ctx.client,
        &ctx.discoveries,
        ctx.env,
        &v2,
        &inventory,
        &next,
        &policy(),
    )
    .await
    .expect("preview");
    let names =
        |refs: &[berth::deploy::ObjectRef]| refs.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&p.create), ["c"]);
    assert_eq!(
        names(&p.unchanged),
        ["a"],
        "a new commit alone is no change"
    );
    assert_eq!(names(&p.prune), ["b"]);
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.change.len(), 1);
    assert_eq!(p.change[0].object.kind, "Deployment");
    assert_eq!(
        p.change[0].diff,
        [
            FieldChange {
                path: "spec.replicas".into(),
                before: Some(json!(2)),
                after: Some(json!(3))
            },
            FieldChange {
                path: "spec.template.spec.containers[name=web].image".into(),
                before: Some(json!("nginx:1.27")),
                after: Some(json!("nginx:1.28")),
            },
        ]
    );
    // Serializes as the API will return it.
    let json: Value = serde_json::to_value(&p).unwrap();
    assert_eq!(json["change"][0]["diff"][0]["path"], "spec.replicas");
    assert_eq!(json["prune"][0]["name"], "b");

    assert_eq!(
        snapshot(&ctx, &ns).await,
        before,
        "the cluster is unchanged"
    );
    assert!(ctx.config_map(&ns, "c").await.is_none());

    // Without prune nothing is listed for deletion; a conflict shows as a rejection.
    let other = stack("other", "1");
    let p = preview(
        &ctx.client,
        &ctx.discoveries,
        ctx.env,
        &v2,
        &[],
        &other,
        &Policy {
            prune: false,
            ..policy()
        },
    )
    .await
    .unwrap();
    assert!(p.prune.is_empty());
    let rejected: Vec<&str> = p.rejected.iter().map(|r| r.object.name.as_str()).collect();
    assert_eq!(rejected, ["a", "web"]);
    assert!(
        p.rejected[0].message.contains("belongs to stack \"web\""),
        "{}",
        p.rejected[0].message
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn a_preview_of_a_new_namespace_and_crd_lists_their_objects_as_created() {
    let ctx = Ctx::start().await;
    let ns = crate::unique("deploy-preview-new");
    let group = format!("{}.berth.test", crate::unique("p"));
    let m = manifests(&[
        (
            "ns.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        ),
        ("cm.yaml", config_map_yaml(&ns, "a", "1")),
        (
            "crd.yaml",
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Thing, plural: things}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
            ),
        ),
        (
            "thing.yaml",
            format!(
                "apiVersion: {group}/v1\nkind: Thing\nmetadata:\n  name: t\n  namespace: {ns}\n"
            ),
        ),
    ]);
    let p = preview(
        &ctx.client,
        &ctx.discoveries,
        ctx.env,
        &m,
        &[],
        &stack("new", "1"),
        &policy(),
    )
    .await
    .expect("preview");
    let mut created: Vec<String> = p.create.iter().map(|r| r.kind.clone()).collect();
    created.sort();
    assert_eq!(
        created,
        [
            "ConfigMap",
            "CustomResourceDefinition",
            "Namespace",
            "Thing"
        ]
    );
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(ctx.client.clone());
    assert!(
        namespaces.get_opt(&ns).await.unwrap().is_none(),
        "dry-run created nothing"
    );
    ctx.cluster.cleanup().await;
}
