//! Benchmark (not a test): webhook received → first object applied. A real `berth serve` process,
//! one Kubernetes test API server (in this process) registered as one environment, one repository
//! served by `git http-backend` over http on 127.0.0.1 with a stack of 5 ConfigMaps that
//! auto-deploys. Each round commits a new value into one ConfigMap, sends a signed GitHub push
//! webhook, and measures from just before the request leaves until the test API server stores the
//! object with the new value (read from its object store every millisecond). Then it waits until
//! the deployment is recorded, so rounds never overlap. Prints p50/p99 over the rounds.
//!
//! ```sh
//! cargo build --release -p berth -p berth-tests --bins
//! target/release/bench-webhook [--webhooks 100] [--json]
//! target/release/bench-webhook --smoke            # 3 webhooks
//! ```
//! Needs PostgreSQL at `DATABASE_URL` and the `berth` binary next to this one (or `BERTH_BIN`).

use std::time::{Duration, Instant};

use anyhow::Context;
use berth::webhooks::sign;
use berth_tests::bench::{BenchApi, BenchDatabase, Figure, Goal, Report, ms, percentile, poll};
use berth_tests::process::BerthProcess;
use clap::Parser;
use git_fixtures::{GitHttpServer, GitRepo};
use kube_test_api::{Identity, TestApiServer};
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgConnection};

#[derive(Parser, Debug)]
#[command(about = "Webhook received → first object applied, p50/p99")]
struct Args {
    /// Webhooks sent, one after the other.
    #[arg(long, default_value_t = 100)]
    webhooks: usize,
    /// Tiny run (3 webhooks) for the test suite.
    #[arg(long)]
    smoke: bool,
    /// Print one JSON report line instead of a table.
    #[arg(long)]
    json: bool,
}

const NAMESPACE: &str = "bench-webhook";

fn config_map(i: usize, rev: usize) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  rev: \"{rev}\"\n")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.smoke {
        args.webhooks = 3;
    }
    let db = BenchDatabase::create().await?;
    let data_dir = tempfile::tempdir()?;
    let result = run(args.webhooks, &db.url, data_dir.path()).await;
    db.drop_now().await;
    result?.emit(args.json);
    Ok(())
}

/// The value of `data.rev` of `cm-0` in the test API server, if the object exists.
fn live_rev(cluster: &TestApiServer) -> Option<String> {
    let o = cluster.object("v1", "ConfigMap", Some(NAMESPACE), "cm-0")?;
    o["data"]["rev"].as_str().map(str::to_owned)
}

async fn run(webhooks: usize, db_url: &str, data_dir: &std::path::Path) -> anyhow::Result<Report> {
    let berth = BerthProcess::start(db_url, data_dir, &[]).await?;
    let api = BenchApi::login(&berth.base).await?;
    let cluster = TestApiServer::start().await;
    api.call(
        Method::POST,
        "/environments",
        Some(
            json!({"name": "hook", "kubeconfig": cluster.kubeconfig(&Identity::Admin),
                    "tags": {"bench": "webhook"}, "default_namespace": NAMESPACE}),
        ),
    )
    .await?;
    let files: Vec<(String, String)> = (0..5)
        .map(|i| (format!("deploy/cm-{i}.yaml"), config_map(i, 0)))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let repo = GitRepo::with_files("hook", &refs);
    let server = GitHttpServer::http().serve(&[&repo]);
    let url = server.url(&repo);
    let created = api
        .call(
            Method::POST,
            "/repositories",
            Some(json!({"name": "hook", "url": url, "schedule": {"kind": "manual"}})),
        )
        .await?;
    let repository_id = created["repository"]["id"]
        .as_str()
        .context("repository id")?
        .to_owned();
    let secret = created["webhook_secret"]
        .as_str()
        .context("webhook secret")?
        .to_owned();
    api.call(
        Method::POST,
        "/stacks",
        Some(
            json!({"name": "hook", "repository_id": repository_id, "ref": "main",
                    "paths": ["deploy"], "selector": "bench=webhook", "create_namespace": true,
                    "auto_deploy": true, "wait_for_health": false}),
        ),
    )
    .await?;
    let mut db = PgConnection::connect(db_url).await?;
    // The stack's creation checks the repository and deploys the first commit.
    poll(
        "the first deployment",
        Duration::from_secs(120),
        Duration::from_millis(50),
        || async { Ok(live_rev(&cluster).filter(|r| r == "0")) },
    )
    .await?;
    wait_idle(&mut db).await?;

    let mut latencies = Vec::with_capacity(webhooks);
    let mut answers = Vec::with_capacity(webhooks);
    for round in 1..=webhooks {
        let rev = round.to_string();
        repo.commit_files(&[("deploy/cm-0.yaml", &config_map(0, round))], "bump");
        let body = serde_json::to_vec(
            &json!({"ref": "refs/heads/main", "repository": {"clone_url": url}}),
        )?;
        let signature = format!("sha256={}", sign(secret.as_bytes(), &body));
        let started = Instant::now();
        let res = api
            .http
            .post(format!("{}/api/v1/webhooks/github", api.base))
            .header("content-type", "application/json")
            .header("x-github-event", "push")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await?;
        answers.push(ms(started.elapsed()));
        anyhow::ensure!(
            res.status() == 202,
            "webhook answered {}: {}",
            res.status(),
            res.text().await.unwrap_or_default()
        );
        poll(
            "the new object version",
            Duration::from_secs(60),
            Duration::from_millis(1),
            || async { Ok(live_rev(&cluster).filter(|r| *r == rev)) },
        )
        .await?;
        latencies.push(ms(started.elapsed()));
        wait_idle(&mut db).await?;
    }
    let failed: i64 =
        sqlx::query_scalar("select count(*) from deployment where status <> 'succeeded'")
            .fetch_one(&mut db)
            .await?;
    // Berth stops before the servers it talks to, so its last checks do not fail loudly.
    drop(berth);
    let mut report = Report::new(
        "bench-webhook",
        format!(
            "{webhooks} signed GitHub push webhooks, one at a time; 1 environment (test API server), \
             a 5-ConfigMap stack, git http-backend over http on 127.0.0.1; default settings; \
             {failed} deployments not succeeded"
        ),
    );
    report.push(
        Figure::new(
            "webhook.p50",
            &format!("webhook received → first object applied, p50 over {webhooks}"),
            "ms",
            vec![percentile(&latencies, 50.0)],
        )
        .goal(Goal::AtMost(1000.0)),
    );
    report.push(
        Figure::new(
            "webhook.p99",
            &format!("webhook received → first object applied, p99 over {webhooks}"),
            "ms",
            vec![percentile(&latencies, 99.0)],
        )
        .goal(Goal::AtMost(3000.0)),
    );
    report.push(Figure::new(
        "webhook.answer_p50",
        "… webhook answered (202), p50",
        "ms",
        vec![percentile(&answers, 50.0)],
    ));
    Ok(report)
}

/// Waits until no deployment is queued or running and every deployment event was consumed.
async fn wait_idle(db: &mut PgConnection) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let busy: i64 = sqlx::query_scalar(
            "select (select count(*) from deployment where status in ('queued', 'running')) \
                  + (select count(*) from deployment_event where consumed_at is null) \
                  + (select count(*) from repository_check where status <> 'done')",
        )
        .fetch_one(&mut *db)
        .await?;
        if busy == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "deployments still busy after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
