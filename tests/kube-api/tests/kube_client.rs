//! The test server driven by the `kube` crate exactly as Berth drives clusters: a kubeconfig
//! with embedded credentials, aggregated and legacy discovery, server-side apply through
//! `DynamicObject` with conflicts, force and dry run, and typed reads.

mod common;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{Discovery, Scope};
use kube::{Client, Config};
use kube_test_api::{Identity, TestApiServer};
use serde_json::json;

async fn client(server: &TestApiServer, identity: &Identity) -> Client {
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig(identity)).expect("parse kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config from kubeconfig");
    Client::try_from(config).expect("client")
}

fn deployment(replicas: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
    }))
    .expect("dynamic object")
}

#[tokio::test]
async fn kube_discovery_works_aggregated_and_legacy() {
    let server = TestApiServer::start().await;
    let client = client(&server, &Identity::Admin).await;
    let aggregated = tokio::time::timeout(
        common::WAIT,
        Discovery::new(client.clone()).run_aggregated(),
    )
    .await
    .unwrap()
    .expect("aggregated discovery");
    let legacy = tokio::time::timeout(common::WAIT, Discovery::new(client.clone()).run())
        .await
        .unwrap()
        .expect("legacy discovery");
    for discovery in [&aggregated, &legacy] {
        assert!(discovery.has_group(""), "the core group is discovered");
        for (group, version, kind, namespaced) in [
            ("", "v1", "ConfigMap", true),
            ("", "v1", "Namespace", false),
            ("apps", "v1", "Deployment", true),
            ("batch", "v1", "CronJob", true),
            ("networking.k8s.io", "v1", "Ingress", true),
            ("rbac.authorization.k8s.io", "v1", "ClusterRole", false),
            (
                "apiextensions.k8s.io",
                "v1",
                "CustomResourceDefinition",
                false,
            ),
            (
                "admissionregistration.k8s.io",
                "v1",
                "ValidatingWebhookConfiguration",
                false,
            ),
            ("autoscaling", "v2", "HorizontalPodAutoscaler", true),
        ] {
            let (resource, caps) = discovery
                .resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
                .unwrap_or_else(|| panic!("{group}/{version} {kind} is discovered"));
            assert_eq!(caps.scope == Scope::Namespaced, namespaced, "{kind}");
            assert!(!resource.plural.is_empty());
        }
    }
}

#[tokio::test]
async fn kube_server_side_apply_conflicts_forces_and_dry_runs() {
    let server = TestApiServer::start().await;
    let client = client(&server, &Identity::Admin).await;
    let discovery = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .expect("discovery");
    let (resource, _) = discovery
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployments");
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &resource);

    let created = api
        .patch(
            "web",
            &PatchParams::apply("berth"),
            &Patch::Apply(&deployment(2)),
        )
        .await
        .expect("first apply");
    let rv = created.metadata.resource_version.clone();
    let again = api
        .patch(
            "web",
            &PatchParams::apply("berth"),
            &Patch::Apply(&deployment(2)),
        )
        .await
        .expect("unchanged apply");
    assert_eq!(again.metadata.resource_version, rv);

    let err = api
        .patch(
            "web",
            &PatchParams::apply("intruder"),
            &Patch::Apply(&deployment(5)),
        )
        .await
        .expect_err("a conflict");
    let kube::Error::Api(status) = err else {
        panic!("an API error, got {err:?}");
    };
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict: conflict with \"berth\": .spec.replicas"
    );

    let dry = api
        .patch(
            "web",
            &PatchParams::apply("intruder").force().dry_run(),
            &Patch::Apply(&deployment(5)),
        )
        .await
        .expect("dry-run apply");
    assert_eq!(dry.data["spec"]["replicas"], 5);
    let typed: Api<Deployment> = Api::namespaced(client.clone(), "default");
    assert_eq!(
        typed.get("web").await.expect("get").spec.unwrap().replicas,
        Some(2),
        "dry run changed nothing"
    );

    api.patch(
        "web",
        &PatchParams::apply("intruder").force(),
        &Patch::Apply(&deployment(5)),
    )
    .await
    .expect("forced apply");
    let now = typed.get("web").await.expect("typed get");
    assert_eq!(now.spec.as_ref().unwrap().replicas, Some(5));
    let managers: Vec<_> = now
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            (
                m.manager.unwrap_or_default(),
                m.operation.unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        managers.contains(&("intruder".to_owned(), "Apply".to_owned())),
        "{managers:?}"
    );

    let ready = common::eventually("the deployment to become available", || {
        let typed = typed.clone();
        async move {
            let d = typed.get("web").await.ok()?;
            let status = d.status?;
            (status.observed_generation == d.metadata.generation
                && status.available_replicas == Some(5))
            .then_some(())
        }
    })
    .await;
    let () = ready;
}

#[tokio::test]
async fn kube_typed_clients_read_and_create_namespaces() {
    let server = TestApiServer::start().await;
    let client = client(&server, &Identity::AdminCert).await;
    let namespaces: Api<Namespace> = Api::all(client);
    let created = namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "team-a"}})).unwrap(),
        )
        .await
        .expect("create namespace");
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    let list = namespaces.list(&Default::default()).await.expect("list");
    assert!(
        list.items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("team-a"))
    );
    assert!(list.metadata.resource_version.is_some());
}

#[tokio::test]
async fn kube_reports_forbidden_for_a_view_identity_writing() {
    let server = TestApiServer::start().await;
    let client = client(&server, &Identity::View).await;
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let err = api
        .patch(
            "web",
            &PatchParams::apply("berth"),
            &Patch::Apply(&deployment(1)),
        )
        .await
        .expect_err("forbidden");
    let kube::Error::Api(status) = err else {
        panic!("an API error, got {err:?}");
    };
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "deployments.apps \"web\" is forbidden: User \"viewer\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"default\""
    );
}
