//! Benchmark (not a test): register N environments spread over several Kubernetes test API
//! servers with a real `berth serve` process, then time one full probe round run by Berth's own
//! scheduler, and report Berth's peak memory. Prints a Markdown table.
//!
//! ```sh
//! cargo build -p berth -p berth-tests --bins
//! target/debug/bench-environments [ENVIRONMENTS] [SERVERS]     # defaults: 1000 10
//! target/debug/bench-environments --json 1000 10              # one JSON report line
//! ```
//! Needs PostgreSQL at `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`) and
//! the `berth` binary next to this one (or at `BERTH_BIN`).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use berth_tests::bench::{BenchDatabase, Figure, Report, status_kb};
use berth_tests::process::{BerthProcess, PROCESS_ADMIN_PASSWORD};
use futures::StreamExt;
use kube_test_api::{Identity, TestApiServer};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    args.retain(|a| a != "--json");
    let mut args = args.into_iter();
    let count: usize = args.next().map_or(Ok(1000), |a| a.parse())?;
    let servers: usize = args.next().map_or(Ok(10), |a| a.parse())?;

    let db = BenchDatabase::create().await?;
    let data_dir = tempfile::tempdir()?;
    let result = run(count, servers, &db.url, data_dir.path(), json).await;
    db.drop_now().await;
    result
}

async fn run(
    count: usize,
    servers: usize,
    db_url: &str,
    data_dir: &std::path::Path,
    json: bool,
) -> anyhow::Result<()> {
    let berth = BerthProcess::start(db_url, data_dir, &[("BERTH_PROBE_INTERVAL", "1h")]).await?;
    let pid = berth.pid();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", berth.base))
        .json(&json!({"username": "admin", "password": PROCESS_ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login token")?.to_owned();
    let rss_idle = status_kb(pid, "VmRSS:").unwrap_or(0);

    let mut clusters = Vec::new();
    for _ in 0..servers {
        clusters.push(TestApiServer::start().await);
    }
    let kubeconfigs: Vec<String> = clusters
        .iter()
        .map(|c| c.kubeconfig(&Identity::Admin))
        .collect();

    let start = Instant::now();
    let failures: Vec<String> = futures::stream::iter(0..count)
        .map(|i| {
            let http = http.clone();
            let url = format!("{}/api/v1/environments", berth.base);
            let token = token.clone();
            let kubeconfig = kubeconfigs[i % servers].clone();
            async move {
                let region = ["eu", "us", "ap"][i % 3];
                let res = http
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"name": format!("env-{i:05}"), "kubeconfig": kubeconfig,
                                  "tags": {"env": if i % 2 == 0 { "prod" } else { "dev" }, "region": region}}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 201 => None,
                    Ok(r) => Some(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
                    Err(e) => Some(e.to_string()),
                }
            }
        })
        .buffer_unordered(32)
        .filter_map(|f| async move { f })
        .collect()
        .await;
    let register_time = start.elapsed();
    if let Some(f) = failures.first() {
        bail!("{} registrations failed, e.g. {f}", failures.len());
    }
    let rss_registered = status_kb(pid, "VmRSS:").unwrap_or(0);

    // One full round, run by Berth's own scheduler (it sweeps every second); the first builds
    // every kube client, the second reuses them.
    let mut db = PgConnection::connect(db_url).await?;
    let round_time = full_round(&mut db).await?;
    let (first, last): (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select min(last_probe_at), max(last_probe_at) from environment")
            .fetch_one(&mut db)
            .await?;
    let warm_time = full_round(&mut db).await?;
    let up: i64 = sqlx::query_scalar("select count(*) from environment where status = 'up'")
        .fetch_one(&mut db)
        .await?;
    let list_start = Instant::now();
    let page: Value = http
        .get(format!(
            "{}/api/v1/environments?selector=env%3Dprod%2Cregion%20in%20(eu%2Cus)&limit=500",
            berth.base
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    let list_time = list_start.elapsed();
    let peak = status_kb(pid, "VmHWM:").unwrap_or(0);
    let rss_end = status_kb(pid, "VmRSS:").unwrap_or(0);

    let mib = |kb: u64| kb as f64 / 1024.0;
    let mut report = Report::new(
        "bench-environments",
        format!(
            "{count} environments over {servers} test API servers; {up} up after the rounds; \
             Berth RSS idle / registered / end: {:.0} / {:.0} / {:.0} MiB",
            mib(rss_idle),
            mib(rss_registered),
            mib(rss_end)
        ),
    );
    report.push(Figure::new(
        "environments.register",
        "registration (32 concurrent requests, each verifies the cluster)",
        "s",
        vec![register_time.as_secs_f64()],
    ));
    report.push(Figure::new(
        "environments.round",
        "full probe round, as seen from outside (incl. up to 1 s scheduler tick)",
        "s",
        vec![round_time.as_secs_f64()],
    ));
    report.push(Figure::new(
        "environments.round_span",
        "full probe round, first to last probe recorded",
        "s",
        vec![(last - first).num_milliseconds() as f64 / 1000.0],
    ));
    report.push(Figure::new(
        "environments.round_warm",
        "second full round (kube clients cached, connections reused)",
        "s",
        vec![warm_time.as_secs_f64()],
    ));
    report.push(Figure::new(
        "environments.list",
        &format!(
            "selector list `env=prod,region in (eu,us)`, first page of {}",
            page["items"].as_array().map_or(0, Vec::len)
        ),
        "ms",
        vec![list_time.as_secs_f64() * 1000.0],
    ));
    report.push(Figure::new(
        "environments.peak_rss",
        "Berth peak RSS (VmHWM)",
        "MiB",
        vec![mib(peak)],
    ));
    report.emit(json);
    Ok(())
}

/// Makes every environment due and waits until each has been probed; returns the elapsed time.
async fn full_round(db: &mut PgConnection) -> anyhow::Result<Duration> {
    sqlx::query("update environment set next_probe_at = now(), last_probe_at = null")
        .execute(&mut *db)
        .await?;
    let start = Instant::now();
    loop {
        let left: i64 =
            sqlx::query_scalar("select count(*) from environment where last_probe_at is null")
                .fetch_one(&mut *db)
                .await?;
        if left == 0 {
            return Ok(start.elapsed());
        }
        if start.elapsed() > Duration::from_secs(600) {
            bail!("probe round not finished after 10 minutes ({left} left)");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
