//! The dashboard in a real browser (headless Chromium driven by playwright-core): each test starts
//! Berth serving the built dashboard, the Kubernetes API of a `TestCluster` and/or a git server,
//! and runs one scenario of `web/e2e/`. Screenshots of the main pages land in
//! `web/e2e/screenshots/`.

use std::io::Write;

use berth_tests::browser::{Scenario, dist_dir};
use berth_tests::{TestApp, TestCluster};
use git_fixtures::{GitDaemon, GitRepo};
use reqwest::Method;
use serde_json::{Value, json};

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.web_dir = dist_dir()).await
}

/// The cluster's admin kubeconfig in a file, as a user would upload it.
fn kubeconfig_file(cluster: &TestCluster) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .prefix("admin-")
        .suffix(".yaml")
        .tempfile()
        .unwrap();
    file.write_all(cluster.admin_kubeconfig().as_bytes())
        .unwrap();
    file
}

fn manifests() -> GitRepo {
    GitRepo::with_files(
        "manifests",
        &[(
            "deploy/config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v\n",
        )],
    )
}

#[tokio::test]
async fn an_admin_registers_environments_from_a_kubeconfig_and_filters_the_list_in_a_browser() {
    let app = spawn().await;
    let cluster = TestCluster::start().await;
    let kubeconfig = kubeconfig_file(&cluster);
    Scenario::new("environments", &app)
        .env("BERTH_KUBECONFIG_FILE", kubeconfig.path().to_string_lossy())
        .run()
        .await;
    // What the browser did is what the API holds.
    let list: Value = app
        .admin(Method::GET, "/api/v1/environments?selector=env%3Dprod")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["items"][0]["name"], "e2e-prod");
    assert_eq!(
        list["items"][0]["tags"],
        json!({"env": "prod", "region": "eu"})
    );
    assert_eq!(list["items"][0]["status"], "up");
    cluster.cleanup().await;
}

#[tokio::test]
async fn an_admin_adds_a_repository_sees_its_schedule_and_checks_it_now_in_a_browser() {
    let app = spawn().await;
    let repo = manifests();
    let daemon = GitDaemon::serve(&[&repo]);
    Scenario::new("repositories", &app)
        .env("BERTH_GIT_URL", daemon.url(&repo))
        .run()
        .await;
    let list: Value = app
        .admin(Method::GET, "/api/v1/repositories")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = &list["items"][0];
    assert_eq!(r["name"], "manifests", "{list}");
    assert_eq!(r["schedule"], json!({"kind": "interval", "interval": "2m"}));
    assert_eq!(r["status"]["last_outcome"], "unchanged");
    let checks = app.audit_actions("repository.check").await;
    assert_eq!(checks.len(), 1, "one check now: {checks:?}");
}

#[tokio::test]
async fn a_viewer_sees_no_actions_and_an_ended_session_comes_back_to_the_same_page() {
    let app = spawn().await;
    let cluster = TestCluster::start().await;
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .json(
            &json!({"name": "e2e-core", "kubeconfig": cluster.admin_kubeconfig(),
            "tags": {"env": "prod"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let repo = manifests();
    let daemon = GitDaemon::serve(&[&repo]);
    let res = app
        .admin(Method::POST, "/api/v1/repositories")
        .json(&json!({"name": "manifests", "url": daemon.url(&repo)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    app.user_with_role("vera", "viewer").await;
    Scenario::new("roles-and-session", &app)
        .env("BERTH_VIEWER_USER", "vera")
        .env("BERTH_VIEWER_PASSWORD", "vera-password")
        .run()
        .await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn an_admin_creates_deploys_follows_changes_previews_and_rolls_back_a_stack_in_a_browser() {
    let app = spawn().await;
    let cluster = TestCluster::start().await;
    let namespace = cluster.namespace("shop").await;
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .json(
            &json!({"name": "e2e-core", "kubeconfig": cluster.admin_kubeconfig(),
            "tags": {"env": "e2e"}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let repo = manifests();
    let first = repo.head("main");
    let daemon = GitDaemon::serve(&[&repo]);
    let signals = tempfile::tempdir().unwrap();
    let request = signals.path().join("push-request");
    let done = signals.path().join("push-done");

    // The scenario asks for a change of the repository by creating `request`; the new commit's
    // id is written to `done` once it is served.
    let pusher = async {
        loop {
            if request.exists() {
                let sha = repo.commit_files(
                    &[(
                        "deploy/config.yaml",
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  k: v2\n",
                    )],
                    "k: v2",
                );
                std::fs::write(&done, sha).unwrap();
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    let scenario = Scenario::new("stacks", &app)
        .env("BERTH_GIT_URL", daemon.url(&repo))
        .env("BERTH_NAMESPACE", namespace.clone())
        .env("BERTH_ENVIRONMENT", "e2e-core")
        .env("BERTH_FIRST_COMMIT", first.clone())
        .env("BERTH_PUSH_REQUEST", request.to_string_lossy())
        .env("BERTH_PUSH_DONE", done.to_string_lossy())
        .run();
    tokio::pin!(scenario);
    let pushed = tokio::select! {
        () = &mut scenario => false,
        () = pusher => true,
    };
    if pushed {
        scenario.await;
    }

    // What the browser did is what the API and the cluster hold: three rollouts (deploy now,
    // the change, the rollback), the first commit deployed and held.
    let stack: Value = app
        .admin(Method::GET, "/api/v1/stacks/shop")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stack["deployed_commit"], first.as_str(), "{stack}");
    // The hold names the commit rolled back from: auto-deploy skips it until a newer one comes.
    let second = std::fs::read_to_string(&done).unwrap();
    assert_eq!(stack["rollback_hold_commit"], second.as_str(), "{stack}");
    assert_eq!(stack["auto_deploy"], true, "{stack}");
    let rollouts: Value = app
        .admin(
            Method::GET,
            &format!(
                "/api/v1/rollouts?stack_id={}",
                stack["id"].as_str().unwrap()
            ),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let triggers: Vec<&str> = rollouts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trigger"].as_str().unwrap())
        .collect();
    assert_eq!(triggers.len(), 3, "{rollouts}");
    assert_eq!(triggers[0], "rollback");
    assert_eq!(triggers[2], "manual");
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(cluster.admin_client(), &namespace);
    let cm = api.get("app").await.unwrap();
    assert_eq!(
        cm.data.unwrap().get("k").map(String::as_str),
        Some("v"),
        "rolled back"
    );
    cluster.cleanup().await;
}
