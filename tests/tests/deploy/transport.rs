//! How Berth's cluster clients talk HTTP: every request of a deployment shares one HTTP/2
//! connection per cluster, and an API server that only speaks HTTP/1.1 is still served. A rollout to
//! a thousand clusters otherwise holds up to `parallelism` TLS connections per cluster (see
//! `berth::environments::clients`). Both need the test API server's connection and request log.

use std::sync::Mutex;

use berth::deploy::{Manifest, execute};
use berth_tests::cluster::client_for;
use kube_test_api::{Identity, Options, TestApiServer};

use crate::{Ctx, config_map_yaml, manifests, policy, stack};

fn many_config_maps(ns: &str, n: usize) -> Vec<Manifest> {
    let files: Vec<(String, String)> = (0..n)
        .map(|i| {
            (
                format!("app/cm-{i:02}.yaml"),
                config_map_yaml(ns, &format!("cm-{i:02}"), "1"),
            )
        })
        .collect();
    let files: Vec<(&str, String)> = files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
    manifests(&files)
}

#[tokio::test]
async fn a_deployment_shares_one_http2_connection_with_its_cluster() {
    let ctx = Ctx::start().await;
    let Some(api) = ctx.cluster.test_api() else {
        return; // a real cluster shows neither its connections nor the protocol of each request
    };
    let ns = ctx.cluster.namespace("deploy-h2").await;
    let client = client_for(&ctx.cluster.admin_kubeconfig()).await;
    let before = api.connections();
    api.clear_requests();
    let mut p = policy();
    p.parallelism = 8;
    let m = many_config_maps(&ns, 24);
    let outcome = execute(
        &client,
        &ctx.discoveries,
        ctx.env,
        &m,
        &[],
        &stack("h2", "c0ffee1"),
        &p,
        &|_| {},
    )
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(outcome.results.len(), 24);
    let requests = api.requests();
    assert!(
        requests.len() >= 25,
        "discovery and 24 applies: {requests:?}"
    );
    let versions: Vec<&str> = requests.iter().map(|r| r.http_version.as_str()).collect();
    assert!(versions.iter().all(|v| *v == "HTTP/2.0"), "{versions:?}");
    assert_eq!(
        api.connections() - before,
        1,
        "24 applies, 8 at a time, over one connection"
    );
    ctx.cluster.cleanup().await;
}

#[tokio::test]
async fn an_api_server_without_http2_is_served_over_http1() {
    let server = TestApiServer::start_with(Options {
        http1_only: true,
        ..Options::default()
    })
    .await;
    let client = client_for(&server.kubeconfig(&Identity::Admin)).await;
    let m = many_config_maps("default", 24);
    let mut p = policy();
    p.parallelism = 8;
    let seen = Mutex::new(0usize);
    let outcome = execute(
        &client,
        &berth::deploy::Discoveries::default(),
        (uuid::Uuid::new_v4(), 1),
        &m,
        &[],
        &stack("h1", "c0ffee1"),
        &p,
        &|_| *seen.lock().unwrap() += 1,
    )
    .await;
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    assert_eq!(*seen.lock().unwrap(), 24);
    let requests = server.requests();
    assert!(
        requests.iter().all(|r| r.http_version == "HTTP/1.1"),
        "{requests:?}"
    );
    assert!(
        server.connections() > 1,
        "applies in parallel over HTTP/1.1 need a connection each"
    );
    assert!(
        server
            .object("v1", "ConfigMap", Some("default"), "cm-23")
            .is_some()
    );
}
