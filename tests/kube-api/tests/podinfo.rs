//! The podinfo manifests (tests/fixtures/podinfo) applied the way Berth applies them:
//! server-side apply of every document through discovery, then waiting for health.

mod common;

use std::path::Path;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use kube::{Client, Config};
use kube_test_api::{Identity, TestApiServer};
use serde_json::Value;

fn manifests() -> Vec<Value> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/podinfo");
    let mut docs = Vec::new();
    for dir in ["kustomize", "database"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .expect("fixture dir")
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            if file.file_name().is_some_and(|n| n == "kustomization.yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read manifest");
            docs.push(
                serde_saphyr::from_str::<Value>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.display())),
            );
        }
    }
    docs
}

#[tokio::test]
async fn the_podinfo_manifests_apply_and_become_healthy() {
    let server = TestApiServer::start().await;
    let kubeconfig =
        Kubeconfig::from_yaml(&server.kubeconfig(&Identity::Edit(vec!["default".into()]))).unwrap();
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("discovery");
    let docs = manifests();
    assert!(docs.len() >= 10, "{} manifests", docs.len());
    for doc in &docs {
        let obj: DynamicObject = serde_json::from_value(doc.clone()).expect("dynamic object");
        let types = obj.types.clone().expect("apiVersion and kind");
        let gvk = GroupVersionKind::try_from(&types).expect("gvk");
        let (resource, caps) = discovery
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("{gvk:?} is served"));
        assert_eq!(caps.scope, Scope::Namespaced);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);
        let name = obj.metadata.name.clone().expect("name");
        api.patch(
            &name,
            &PatchParams::apply("berth").force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {} {name}: {e}", types.kind));
    }
    for (api_version, kind, name, ready) in [
        ("apps/v1", "Deployment", "podinfo", "availableReplicas"),
        (
            "apps/v1",
            "Deployment",
            "database-replica",
            "availableReplicas",
        ),
        (
            "apps/v1",
            "StatefulSet",
            "database-primary",
            "readyReplicas",
        ),
    ] {
        common::eventually(name, || async {
            let obj = server.object(api_version, kind, Some("default"), name)?;
            let status = &obj["status"];
            (status["observedGeneration"] == obj["metadata"]["generation"]
                && status[ready].as_i64() >= Some(1))
            .then_some(())
        })
        .await;
    }
    let hpa = server
        .object(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            Some("default"),
            "podinfo",
        )
        .expect("hpa stored");
    assert_eq!(hpa["spec"]["maxReplicas"], 4);
    let svc = server
        .object("v1", "Service", Some("default"), "podinfo")
        .expect("service stored");
    assert!(
        svc["spec"]["clusterIP"].is_string(),
        "a cluster IP is allocated"
    );
    assert!(
        server
            .object("batch/v1", "CronJob", Some("default"), "backup-daily")
            .is_some()
    );
    assert!(
        server
            .object(
                "v1",
                "PersistentVolumeClaim",
                Some("default"),
                "database-primary"
            )
            .is_some()
            || server
                .objects()
                .iter()
                .any(|o| o["kind"] == "PersistentVolumeClaim")
    );
}
