//! Benchmark (not a test): one commit to N environments of M objects each. A real `berth serve`
//! process (release build recommended) deploys a stack of M ConfigMaps/Services to N
//! environments spread over several Kubernetes test API servers (each environment its own
//! namespace); the figure is the wall time from "deploy" to the rollout's end, and Berth's peak
//! memory. Prints a Markdown table.
//!
//! ```sh
//! cargo build --release -p berth -p berth-tests --bins
//! target/release/bench-rollout [ENVIRONMENTS] [OBJECTS] [SERVERS]   # defaults: 1000 20 10
//! target/release/bench-rollout --smoke                              # 10 × 5 on 2 servers
//! target/release/bench-rollout --json 1000 20 10                    # one JSON report line
//! ```
//! Goal (issue 6): 1,000 × 20 in at most 60 s and 300 MiB on 2 cores.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth_tests::bench::{BenchDatabase, Figure, Goal, Report, status_kb};
use berth_tests::process::{BerthProcess, PROCESS_ADMIN_PASSWORD};
use futures::StreamExt;
use git_fixtures::{GitDaemon, GitRepo};
use kube_test_api::{Identity, TestApiServer};
use serde_json::{Value, json};

fn manifests(objects: usize) -> Vec<(String, String)> {
    (0..objects)
        .map(|i| {
            let body = if i % 4 == 3 {
                format!(
                    "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i:03}\n  labels: {{app: bench}}\nspec:\n  selector: {{app: bench-{i}}}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
                )
            } else {
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:03}\n  labels: {{app: bench}}\ndata:\n  index: \"{i}\"\n  payload: \"{}\"\n",
                    "x".repeat(256)
                )
            };
            (format!("deploy/obj-{i:03}.yaml"), body)
        })
        .collect()
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await?;
        let status = res.status();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("{path}: {status} {v}");
        }
        Ok(v)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    args.retain(|a| a != "--json");
    let (envs, objects, servers) = if args.first().map(String::as_str) == Some("--smoke") {
        (10, 5, 2)
    } else {
        let n = |i: usize, d: usize| args.get(i).map_or(Ok(d), |a| a.parse());
        (n(0, 1000)?, n(1, 20)?, n(2, 10)?)
    };
    let db = BenchDatabase::create().await?;
    let data_dir = tempfile::tempdir()?;
    let result = run(envs, objects, servers, &db.url, data_dir.path()).await;
    db.drop_now().await;
    result?.emit(json);
    Ok(())
}

async fn run(
    envs: usize,
    objects: usize,
    servers: usize,
    db_url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<Report> {
    let berth = BerthProcess::start(
        db_url,
        data_dir,
        &[
            ("BERTH_PROBE_INTERVAL", "1h"),
            ("BERTH_DATABASE_MAX_CONNECTIONS", "24"),
            ("BERTH_DEPLOY_CONCURRENCY", "16"),
            ("BERTH_ALLOW_LOCAL_REPOSITORIES", "false"),
        ],
    )
    .await?;
    let pid = berth.pid();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()?;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", berth.base))
        .json(&json!({"username": "admin", "password": PROCESS_ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let api = Api {
        http: http.clone(),
        base: berth.base.clone(),
        token: login["token"].as_str().context("login token")?.to_owned(),
    };

    let mut clusters = Vec::new();
    for _ in 0..servers {
        clusters.push(TestApiServer::start().await);
    }
    let kubeconfigs: Vec<String> = clusters
        .iter()
        .map(|c| c.kubeconfig(&Identity::Admin))
        .collect();
    let registered: Vec<anyhow::Result<Value>> = futures::stream::iter(0..envs)
        .map(|i| {
            let body = json!({"name": format!("env-{i:05}"), "kubeconfig": kubeconfigs[i % servers],
                              "tags": {"bench": "yes"}, "default_namespace": format!("bench-{i:05}")});
            let api = &api;
            async move { api.call(reqwest::Method::POST, "/environments", Some(body)).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    if let Some(Err(e)) = registered.into_iter().find(Result::is_err) {
        bail!("registering environments: {e}");
    }
    let files = manifests(objects);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let repo = GitRepo::with_files("bench", &refs);
    let daemon = GitDaemon::serve(&[&repo]);
    let created = api
        .call(
            reqwest::Method::POST,
            "/repositories",
            Some(
                json!({"name": "bench", "url": daemon.url(&repo), "schedule": {"kind": "manual"}}),
            ),
        )
        .await?;
    let repository_id = created["repository"]["id"].as_str().context("repo id")?;
    let stack = api
        .call(
            reqwest::Method::POST,
            "/stacks",
            Some(
                json!({"name": "bench", "repository_id": repository_id, "ref": "main",
                        "paths": ["deploy"], "selector": "bench=yes", "create_namespace": true,
                        "auto_deploy": false, "wait_for_health": false}),
            ),
        )
        .await?;
    let stack_id = stack["id"].as_str().context("stack id")?.to_owned();
    // Wait until change detection knows the commit (the stack's creation asked for a check).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = api
            .call(reqwest::Method::GET, &format!("/stacks/{stack_id}"), None)
            .await?;
        if s["latest_commit"].is_string() {
            break;
        }
        if Instant::now() > deadline {
            bail!("the repository check did not find the commit");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss_before = status_kb(pid, "VmRSS:").unwrap_or(0);
    let start = Instant::now();
    let started = api
        .call(
            reqwest::Method::POST,
            &format!("/stacks/{stack_id}/deploy"),
            None,
        )
        .await?;
    let rollout_id = started["rollout_id"]
        .as_str()
        .context("rollout id")?
        .to_owned();
    let mut peak = rss_before;
    let detail = loop {
        peak = peak.max(status_kb(pid, "VmRSS:").unwrap_or(0));
        let r = api
            .call(
                reqwest::Method::GET,
                &format!("/rollouts/{rollout_id}"),
                None,
            )
            .await?;
        if !matches!(r["status"].as_str(), Some("queued" | "running")) {
            break r;
        }
        if start.elapsed() > Duration::from_secs(900) {
            bail!("the rollout did not end within 15 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let wall = start.elapsed();
    let hwm = status_kb(pid, "VmHWM:").unwrap_or(0).max(peak);
    let counts = &detail["deployments"];
    if detail["status"] != "succeeded" {
        let failed: Vec<&Value> = detail["targets"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter(|d| d["status"] == "failed")
                    .take(3)
                    .collect()
            })
            .unwrap_or_default();
        bail!(
            "rollout ended {}: {counts}; e.g. {failed:?}",
            detail["status"]
        );
    }
    let applied: usize = clusters.iter().map(|c| c.objects().len()).sum();
    let mib = |kb: u64| kb as f64 / 1024.0;
    let mut report = Report::new(
        "bench-rollout",
        format!(
            "{envs} environments × {objects} objects over {servers} test API servers; \
             {} / {} deployments succeeded, {applied} objects in the clusters after",
            counts["succeeded"], counts["total"]
        ),
    );
    report.push(
        Figure::new(
            "rollout.wall",
            &format!("one commit to {envs} environments × {objects} objects: wall time"),
            "s",
            vec![wall.as_secs_f64()],
        )
        .goal(Goal::AtMost(60.0)),
    );
    report.push(
        Figure::new(
            "rollout.peak_rss",
            "… Berth peak RSS (VmHWM) over the run",
            "MiB",
            vec![mib(hwm)],
        )
        .goal(Goal::AtMost(300.0)),
    );
    report.push(Figure::new(
        "rollout.rate",
        "… deployments per second",
        "1/s",
        vec![envs as f64 / wall.as_secs_f64()],
    ));
    Ok(report)
}
