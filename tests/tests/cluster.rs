//! The `TestCluster` harness behaves the same on the test API server and on a real cluster.

use berth_tests::TestCluster;
use berth_tests::cluster::client_for;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, PostParams};
use kube_test_api::BadKubeconfig;

fn config_map(name: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_owned(), "v".to_owned())].into()),
        ..ConfigMap::default()
    }
}

fn status_of(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

#[tokio::test]
async fn each_test_gets_its_own_namespaces_and_they_are_removed_on_cleanup() {
    let cluster = TestCluster::start().await;
    let a = cluster.namespace("harness-a").await;
    let b = cluster.namespace("harness-b").await;
    assert_ne!(a, b);
    let other = TestCluster::start().await;
    let c = other.namespace("harness-a").await;
    assert_ne!(a, c, "two tests never share a namespace");
    let api = Api::<Namespace>::all(cluster.admin_client());
    assert!(api.get_opt(&a).await.unwrap().is_some());
    cluster.cleanup().await;
    let gone = api.get_opt(&a).await.unwrap();
    assert!(
        gone.is_none() || gone.unwrap().metadata.deletion_timestamp.is_some(),
        "namespace deleted"
    );
    other.cleanup().await;
}

#[tokio::test]
async fn an_editor_writes_in_its_namespace_only_and_a_viewer_writes_nowhere() {
    let cluster = TestCluster::start().await;
    let mine = cluster.namespace("harness-edit").await;
    let theirs = cluster.namespace("harness-other").await;
    let editor = client_for(&cluster.edit_kubeconfig(&[&mine]).await).await;
    Api::<ConfigMap>::namespaced(editor.clone(), &mine)
        .create(&PostParams::default(), &config_map("allowed"))
        .await
        .expect("editor writes in its namespace");
    let err = Api::<ConfigMap>::namespaced(editor, &theirs)
        .create(&PostParams::default(), &config_map("refused"))
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(403), "{err}");

    let viewer = client_for(&cluster.view_kubeconfig().await).await;
    let seen = Api::<ConfigMap>::namespaced(viewer.clone(), &mine)
        .get("allowed")
        .await
        .unwrap();
    assert_eq!(seen.data.unwrap()["k"], "v");
    let err = Api::<ConfigMap>::namespaced(viewer, &mine)
        .create(&PostParams::default(), &config_map("nope"))
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(403), "{err}");
    cluster.cleanup().await;
}

#[tokio::test]
async fn bad_kubeconfigs_fail_the_way_a_cluster_fails_them() {
    let cluster = TestCluster::start().await;
    let unknown = client_for(&cluster.bad_kubeconfig(BadKubeconfig::UnknownToken)).await;
    let err = Api::<Namespace>::all(unknown)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(status_of(&err), Some(401), "{err}");

    let wrong_ca = client_for(&cluster.bad_kubeconfig(BadKubeconfig::WrongCa)).await;
    let err = Api::<Namespace>::all(wrong_ca)
        .list(&Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        status_of(&err),
        None,
        "a TLS failure, not an API answer: {err}"
    );

    let multi = cluster.bad_kubeconfig(BadKubeconfig::MultiContext);
    let kc = kube::config::Kubeconfig::from_yaml(&multi).unwrap();
    assert!(kc.contexts.len() > 1);

    let insecure = cluster.bad_kubeconfig(BadKubeconfig::InsecureSkipTlsVerify);
    let kc = kube::config::Kubeconfig::from_yaml(&insecure).unwrap();
    let c = kc.clusters[0].cluster.as_ref().unwrap();
    assert_eq!(c.insecure_skip_tls_verify, Some(true));
    assert!(c.certificate_authority_data.is_none());
}

#[tokio::test]
async fn fault_injection_is_offered_only_by_the_test_api_server() {
    let cluster = TestCluster::start().await;
    match cluster.test_api() {
        Some(server) => {
            assert!(!cluster.is_real());
            // 500, not 503: kube-rs retries 429/503/504 by itself.
            server.faults().fail_ratio(1.0, 500);
            let err = Api::<Namespace>::all(cluster.admin_client())
                .list(&Default::default())
                .await
                .unwrap_err();
            assert_eq!(status_of(&err), Some(500));
            server.faults().clear();
            Api::<Namespace>::all(cluster.admin_client())
                .list(&Default::default())
                .await
                .expect("healthy again");
        }
        None => assert!(cluster.is_real()),
    }
}
