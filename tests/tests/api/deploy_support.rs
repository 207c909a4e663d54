//! Helpers of the deployment end-to-end tests: a Berth, a cluster (test API server or
//! `BERTH_TEST_KUBECONFIG`), a real git repository served by `git daemon`, an environment and a
//! repository registered, stacks created through the API, rollouts followed to their end.

use std::time::Duration;

use berth::config::Config;
use berth_tests::{TestApp, TestCluster, wait_for};
use git_fixtures::{GitDaemon, GitRepo};
use kube::api::{Api, DynamicObject};
use kube::discovery::ApiResource;
use reqwest::Method;
use serde_json::{Value, json};

use berth_tests::repos::create_repo;

pub struct Fleet {
    pub app: TestApp,
    pub cluster: TestCluster,
    pub repo: GitRepo,
    /// Serves `repo` for as long as the fleet lives.
    _daemon: GitDaemon,
    pub repository_id: String,
    pub environment_id: String,
    /// A namespace of this test, in the cluster.
    pub ns: String,
}

/// Berth tuned for tests: short retries and leases, 1 s minimum poll interval.
pub async fn spawn_app(configure: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(|c| {
        c.min_poll_interval = Duration::from_secs(1);
        c.git_timeout = Duration::from_secs(5);
        c.database_max_connections = 20;
        c.deploy_retry_backoff = Duration::from_millis(200);
        c.deploy_max_attempts = 3;
        c.deploy_lease = Duration::from_secs(3);
        configure(c);
    })
    .await
}

impl Fleet {
    /// Everything ready; the repository holds `files` (where `{ns}` is replaced by the test's
    /// namespace).
    pub async fn start(files: &[(&str, &str)]) -> Fleet {
        Self::start_with(files, |_| {}).await
    }

    /// Like [`start`](Self::start), with Berth's configuration adjusted.
    pub async fn start_with(files: &[(&str, &str)], configure: impl FnOnce(&mut Config)) -> Fleet {
        let app = spawn_app(configure).await;
        let cluster = TestCluster::start().await;
        let ns = cluster.namespace("app").await;
        let owned: Vec<(String, String)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.replace("{ns}", &ns)))
            .collect();
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        let repo = GitRepo::with_files("app", &refs);
        let daemon = GitDaemon::serve(&[&repo]);
        let created = create_repo(&app, "app", &daemon.url(&repo), json!({})).await;
        let repository_id = created["repository"]["id"].as_str().unwrap().to_owned();
        let environment_id = register_environment(
            &app,
            "one",
            &cluster.admin_kubeconfig(),
            json!({"env": "test"}),
        )
        .await;
        Fleet {
            app,
            cluster,
            repo,
            _daemon: daemon,
            repository_id,
            environment_id,
            ns,
        }
    }

    /// Writes files (with `{ns}` replaced) and commits them; returns the commit.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        let owned: Vec<(String, String)> = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.replace("{ns}", &self.ns)))
            .collect();
        let refs: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_str()))
            .collect();
        self.repo.commit_files(&refs, message)
    }

    /// Creates a stack targeting the environment, with `extra` fields; returns it.
    pub async fn stack(&self, name: &str, extra: Value) -> Value {
        let mut body = json!({"name": name, "repository_id": self.repository_id, "ref": "main",
                              "paths": ["deploy"], "environment_ids": [self.environment_id],
                              "health_timeout_seconds": 20});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = self
            .app
            .admin(Method::POST, "/api/v1/stacks")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert_eq!(status, 201, "{v}");
        v
    }

    /// Makes the repository check now (and waits for the check).
    pub async fn check(&self) -> Value {
        berth_tests::repos::check_now(&self.app, self.repository_id.parse().unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res = self
            .app
            .admin(Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> Value {
        let res = self.app.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.unwrap()
    }

    /// Deploys now (optionally a chosen commit); returns the rollout id.
    pub async fn deploy(&self, stack: &Value, commit: Option<&str>) -> String {
        let (status, v) = self
            .post(
                &format!("/api/v1/stacks/{}/deploy", stack["id"].as_str().unwrap()),
                json!({"commit": commit}),
            )
            .await;
        assert_eq!(status, 202, "{v}");
        v["rollout_id"].as_str().unwrap().to_owned()
    }

    /// Waits for a rollout to end; returns its detail.
    pub async fn finished(&self, rollout_id: &str) -> Value {
        wait_for("the rollout to end", Duration::from_secs(90), || async {
            let r = self.get(&format!("/api/v1/rollouts/{rollout_id}")).await;
            (!matches!(r["status"].as_str(), Some("queued" | "running"))).then_some(r)
        })
        .await
    }

    /// Waits for the stack's n-th rollout (1-based, oldest first) to exist and end.
    pub async fn nth_rollout(&self, stack: &Value, n: usize) -> Value {
        let id = stack["id"].as_str().unwrap();
        let rollout_id = wait_for("the rollout to exist", Duration::from_secs(60), || async {
            let page = self
                .get(&format!("/api/v1/rollouts?stack_id={id}&limit=100"))
                .await;
            let mut items = page["items"].as_array().cloned().unwrap_or_default();
            items.reverse();
            items
                .get(n - 1)
                .and_then(|r| r["id"].as_str().map(str::to_owned))
        })
        .await;
        self.finished(&rollout_id).await
    }

    /// The per-object results of a deployment: (kind, name, action, message).
    pub async fn objects(&self, deployment_id: &str) -> Vec<(String, String, String, String)> {
        let page = self
            .get(&format!(
                "/api/v1/deployments/{deployment_id}/objects?limit=500"
            ))
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["kind"].as_str().unwrap().to_owned(),
                    o["name"].as_str().unwrap().to_owned(),
                    o["action"].as_str().unwrap().to_owned(),
                    o["message"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The only deployment of a rollout.
    pub fn deployment(rollout: &Value) -> &Value {
        let targets = rollout["targets"].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{rollout}");
        &targets[0]
    }

    /// A ConfigMap's data in the test namespace (None when absent).
    pub async fn config_map(&self, name: &str) -> Option<Value> {
        self.get_object("", "v1", "ConfigMap", Some(&self.ns), name)
            .await
            .map(|o| o.data["data"].clone())
    }

    pub async fn get_object(
        &self,
        group: &str,
        version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<DynamicObject> {
        let api_version = if group.is_empty() {
            version.to_owned()
        } else {
            format!("{group}/{version}")
        };
        let plural = format!("{}s", kind.to_ascii_lowercase());
        let ar = ApiResource {
            group: group.to_owned(),
            version: version.to_owned(),
            api_version,
            kind: kind.to_owned(),
            plural,
        };
        let api: Api<DynamicObject> = match namespace {
            Some(ns) => Api::namespaced_with(self.cluster.admin_client(), ns, &ar),
            None => Api::all_with(self.cluster.admin_client(), &ar),
        };
        api.get_opt(name).await.unwrap()
    }
}

/// Registers an environment; returns its id.
pub async fn register_environment(
    app: &TestApp,
    name: &str,
    kubeconfig: &str,
    tags: Value,
) -> String {
    let res = app
        .admin(Method::POST, "/api/v1/environments")
        .json(&json!({"name": name, "kubeconfig": kubeconfig, "tags": tags}))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    let env = if v["items"].is_array() {
        &v["items"][0]
    } else {
        &v
    };
    env["id"].as_str().unwrap().to_owned()
}

/// A ConfigMap manifest in the test namespace.
pub fn config_map(name: &str, value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {{ns}}\ndata:\n  value: \"{value}\"\n"
    )
}

/// Waits until a rollout's deployment is running.
pub async fn wait_running(f: &Fleet, rollout_id: &str) {
    wait_for("the deployment to run", Duration::from_secs(30), || async {
        let r = f.get(&format!("/api/v1/rollouts/{rollout_id}")).await;
        (r["targets"][0]["status"] == "running").then_some(())
    })
    .await;
}
